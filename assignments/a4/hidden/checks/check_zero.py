"""Hidden test zero: the sharded Adam alone on 2 ranks."""
import pytest

from ddp_checks import check_state_balanced, check_state_complete, check_step

TEST = "zero"


@pytest.mark.parametrize("step", [1, 2, 3])
def test_parameters_match_single_process(step):
    check_step(TEST, step)


def test_optimizer_state_adds_up_to_the_whole():
    check_state_complete(TEST)


def test_optimizer_state_about_half_per_rank():
    check_state_balanced(TEST)
