"""Hidden test ddp_unused: a parameter used only on rank 1, one used on no rank."""
import pytest

from ddp_checks import check_step

TEST = "ddp_unused"


@pytest.mark.parametrize("step", [1, 2, 3])
def test_parameters_match_single_process(step):
    check_step(TEST, step)
