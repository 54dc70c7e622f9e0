"""Hidden test zero: the sharded Adam alone on 2 ranks."""
import pytest

from ddp_checks import check_step

TEST = "zero"


@pytest.mark.parametrize("step", [1, 2, 3])
def test_parameters_match_single_process(step):
    check_step(TEST, step)
