"""Shared checks of the DDP tests (trusted; reads only /out and recomputes the reference)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402

_REFERENCE = {}


def reference(test):
    if test not in _REFERENCE:
        _REFERENCE[test] = common.reference_training(common.CONFIGS[test])
    return _REFERENCE[test]


def check_step(test, step):
    """Every rank's parameters after `step` optimizer steps (0: right after wrapping the
    model, where all ranks must hold rank 0's initialisation) equal single-process training."""
    cfg = common.CONFIGS[test]
    rows, _ = reference(test)
    for rank in range(cfg["world"]):
        got = common.load_npy(f"params_r{rank}.npy")
        if got.ndim != 2 or got.shape[0] <= step:
            raise AssertionError(f"rank {rank}: no parameters recorded after step {step}"
                                 f"{common.error_note()}")
        what = "initial parameters (broadcast from rank 0)" if step == 0 else f"after step {step}"
        common.close(got[step], rows[step], f"rank {rank}, {what}")


def check_calls(test):
    cfg = common.CONFIGS[test]
    want = common.expected_bucket_count(cfg)
    for rank in range(cfg["world"]):
        calls = common.load_json(f"info_r{rank}.json").get("allreduce_calls")
        if calls != [want] * cfg["steps"]:
            raise AssertionError(f"rank {rank}: all_reduce calls per step {calls}, expected "
                                 f"{want} (one per bucket) in each of {cfg['steps']} steps")


def state_sizes(test):
    cfg = common.CONFIGS[test]
    got = []
    for rank in range(cfg["world"]):
        n = common.load_json(f"info_r{rank}.json").get("state_numel")
        if not isinstance(n, int):
            raise AssertionError(f"rank {rank}: no optimizer state size recorded")
        got.append(n)
    return got


def check_state_complete(test):
    """The ranks' optimizer states add up to exactly the unsharded state (nothing kept twice)."""
    _, full = reference(test)
    got = state_sizes(test)
    if sum(got) != full:
        raise AssertionError(f"optimizer state elements per rank {got} add up to {sum(got)}; "
                             f"the unsharded Adam state has {full}")


def check_state_balanced(test):
    """Each rank's optimizer state is at most 1/world of the whole plus the state of the
    largest parameter (what assigning whole parameters, largest first, can always reach)."""
    cfg = common.CONFIGS[test]
    _, full = reference(test)
    largest = 2 * max(common.param_numels(cfg)) + 1  # Adam: exp_avg, exp_avg_sq, step
    bound = full / cfg["world"] + largest
    got = state_sizes(test)
    if max(got) > bound:
        raise AssertionError(f"optimizer state elements per rank {got}: more than "
                             f"{bound:.0f} (1/{cfg['world']} of {full} plus the largest "
                             f"parameter's state) on one rank")


def check_state_sharded(test):
    check_state_complete(test)
    check_state_balanced(test)
