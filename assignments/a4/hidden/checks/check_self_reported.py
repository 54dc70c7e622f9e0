"""Hidden test ddp_self_reported (self_reported, student_can_forge): counts taken in the
student's processes, read from the channel (first line per key; a key reported twice fails)."""
import pytest

from ddp_checks import check_calls, check_state_balanced


@pytest.mark.parametrize("test", ["ddp_equal", "ddp_zero_ws4"])
def test_one_all_reduce_per_bucket(test):
    check_calls(test)


def test_optimizer_state_balanced():
    check_state_balanced("zero")
