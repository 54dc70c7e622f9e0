"""Shared checks of the DDP tests (trusted; reads only /out and recomputes the reference)."""
import json
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


def channel_facts():
    """The self-reported facts the produce run wrote through the channel: the first line per
    key, and the keys reported more than once (a second line is someone else's: forged)."""
    first, twice = {}, set()
    path = os.environ.get("GRADER_CHANNEL", "/channel/channel.jsonl")
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        data = b""
    for line in data.splitlines():
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
        except (ValueError, KeyError, TypeError):
            continue
        if not isinstance(key, str):
            continue
        if key in first:
            twice.add(key)
        else:
            first[key] = value
    return first, twice


def fact(key):
    first, twice = channel_facts()
    if key in twice:
        raise AssertionError(f"{key} was reported twice through the channel: only the driver "
                             "reports it, so the second report was forged")
    if key not in first:
        raise AssertionError(f"{key} was never reported (the run stopped before it){common.error_note()}")
    return first[key]


def check_calls(test):
    """One all_reduce per bucket in every step on every rank (self-reported)."""
    cfg = common.CONFIGS[test]
    want = common.expected_bucket_count(cfg)
    for rank in range(cfg["world"]):
        calls = [fact(f"{test}/allreduce_calls/r{rank}/step{s}") for s in range(cfg["steps"])]
        if calls != [want] * cfg["steps"]:
            raise AssertionError(f"rank {rank}: all_reduce calls per step {calls}, expected "
                                 f"{want} (one per bucket) in each of {cfg['steps']} steps")


def check_state_balanced(test):
    """The ranks' optimizer states add up to the unsharded state, and each is at most 1/world
    of it plus the state of the largest parameter (self-reported sizes)."""
    cfg = common.CONFIGS[test]
    _, full = reference(test)
    got = [fact(f"{test}/state_numel/r{rank}") for rank in range(cfg["world"])]
    if not all(isinstance(n, int) for n in got):
        raise AssertionError(f"optimizer state sizes {got} are not integers")
    if sum(got) != full:
        raise AssertionError(f"optimizer state elements per rank {got} add up to {sum(got)}; "
                             f"the unsharded Adam state has {full}")
    largest = 2 * max(common.param_numels(cfg)) + 1  # Adam: exp_avg, exp_avg_sq, step
    bound = full / cfg["world"] + largest
    if max(got) > bound:
        raise AssertionError(f"optimizer state elements per rank {got}: more than "
                             f"{bound:.0f} (1/{cfg['world']} of {full} plus the largest "
                             f"parameter's state) on one rank")
