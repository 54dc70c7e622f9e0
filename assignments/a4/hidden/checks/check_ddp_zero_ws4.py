"""Hidden test ddp_zero_ws4: DDP and the sharded Adam together on 4 ranks."""
import pytest

from ddp_checks import check_step

TEST = "ddp_zero_ws4"


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_parameters_match_single_process(step):
    check_step(TEST, step)
