"""Hidden test ddp_equal: world size 2, tied and frozen parameters, 3 buckets."""
import pytest

from ddp_checks import check_step

TEST = "ddp_equal"


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_parameters_match_single_process(step):
    check_step(TEST, step)
