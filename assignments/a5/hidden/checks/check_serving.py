"""Checker (no student code): continuous batching. The scheduler's recorded steps must respect
the block budget and the batch limit, follow the policy of the README, and finish every request
with the right tokens; the engine's outputs must equal per-request greedy decoding."""
import json
import os
import random

import pytest

OUT = os.environ.get("GRADER_OUT", "/out")
EXPECTED = os.environ.get("GRADER_EXPECTED", "/expected")


@pytest.fixture(scope="module")
def out():
    with open(os.path.join(OUT, "serving.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def exp():
    with open(os.path.join(EXPECTED, "serving.json")) as f:
        return json.load(f)


def sched(out):
    assert "scheduler" not in out["errors"], f"scheduler raised:\n{out['errors']['scheduler']}"
    return out["sched_steps"]


def test_all_requests_finish_with_their_tokens(out, exp):
    sched(out)
    got = out["sched_outputs"]
    missing = sorted(set(exp["sched_outputs"]) - set(got), key=int)
    assert not missing, f"requests {missing} never finished within {out['sched_config']['max_steps']} steps"
    for rid, want in exp["sched_outputs"].items():
        assert got[rid] == want, f"request {rid}: output {got[rid]}, expected {want}"
    assert out["sched_free_at_end"] == out["sched_config"]["num_blocks"], "blocks leaked at the end"


def test_block_budget_and_batch_limit(out):
    cfg = out["sched_config"]
    bs = cfg["block_size"]
    for s in sched(out):
        owned = [b for t in s["tables"].values() for b in t]
        assert len(owned) == len(set(owned)), f"step {s['step']}: a block is shared"
        assert len(owned) <= cfg["num_blocks"] - s["num_free"], f"step {s['step']}: free count wrong"
        assert all(0 <= b < cfg["num_blocks"] for b in owned), f"step {s['step']}: bad block id"
        assert len(s["batch"]) <= cfg["max_batch_size"], f"step {s['step']}: batch of {len(s['batch'])}"
        for rid, table in s["tables"].items():
            assert len(table) == -(-s["lengths"][rid] // bs), f"step {s['step']}: request {rid} blocks"


def test_each_step_feeds_the_right_tokens(out):
    """A decode feeds the one token not yet cached; a (re)admitted request feeds all its tokens."""
    for s in sched(out):
        lengths = s["slot_lengths"]
        assert len(lengths) == len(s["batch"]) and all(
            a == b == c for a, b, c in lengths), (
            f"step {s['step']}: slots, tokens and positions differ in length ({lengths})")
        rids = [b[0] for b in s["batch"]]
        assert len(rids) == len(set(rids)), f"step {s['step']}: a request is scheduled twice"
        for rid, n, first, total in s["batch"]:
            ok = (n == 1 and first == total - 1) or (n == total and first == 0)
            assert ok, f"step {s['step']}: request {rid} fed {n} tokens from {first} of {total}"
            assert s["lengths"][str(rid)] == total, f"step {s['step']}: request {rid} cache length"


def sched_trace():
    """The driver's request trace, regenerated here from the seed (the same code as
    drivers/run_serving.py), so that the admission order is judged against trusted data."""
    rng = random.Random(int(os.environ.get("GRADER_SEED", "504")))
    reqs = []
    for rid in range(16):
        arrival = rng.randint(0, 30)
        prompt = [rng.randrange(128) for _ in range(rng.randint(1, 20))]
        reqs.append((arrival, rid, prompt, rng.randint(1, 24)))
    reqs.sort()
    return reqs


def test_fcfs_admission_and_preemption(out, exp):
    steps = sched(out)
    arrival_order = [rid for _, rid, _, _ in sched_trace()]
    first_seen = []
    for s in steps:
        for b in s["batch"]:
            if b[0] not in first_seen:
                first_seen.append(b[0])
    assert first_seen == arrival_order[:len(first_seen)], f"admission order {first_seen}"
    assert steps and steps[-1]["preemptions"] >= 1, "the block budget forces a preemption; none happened"


def test_finishes_in_reasonable_steps(out, exp):
    """Continuous batching admits work as soon as it fits: at most 10% more steps than the reference."""
    steps = sched(out)
    assert len(steps) <= int(exp["sched_steps"] * 1.1), f"{len(steps)} steps, reference {exp['sched_steps']}"


def test_engine_outputs_equal_greedy(out, exp):
    assert "engine" not in out["errors"], f"engine raised:\n{out['errors']['engine']}"
    for rid, want in exp["engine_outputs"].items():
        got = out["engine_outputs"].get(rid)
        assert got == want, f"request {rid}: engine output {got}, greedy decoding gives {want}"
    assert out["engine_preemptions"] >= 1, "the engine's budget forces a preemption; none happened"
