"""Checker (no student code): the block allocator and the block manager's trace.
Invariants on every recorded state, plus the trace's outcomes against the reference's."""
import json
import os

import pytest

OUT = os.environ.get("GRADER_OUT", "/out")
EXPECTED = os.environ.get("GRADER_EXPECTED", "/expected")


@pytest.fixture(scope="module")
def out():
    with open(os.path.join(OUT, "allocator.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def exp():
    with open(os.path.join(EXPECTED, "allocator.json")) as f:
        return json.load(f)


def basics(out):
    for key in ("import", "basics"):
        assert key not in out["errors"], f"{key} raised:\n{out['errors'][key]}"
    return out["basics"]


def steps(out):
    for key in ("import", "trace"):
        assert key not in out["errors"], f"{key} raised:\n{out['errors'][key]}"
    return out["steps"]


def test_allocate_all_then_exhausted(out):
    b = basics(out)
    assert b["initial_free"] == 8
    assert sorted(b["ids"]) == list(range(8)), f"ids {b['ids']}: not 8 distinct blocks in 0..7"
    assert b["free_after_all"] == 0
    assert b["exhausted"] == "NoFreeBlocks", f"allocating from an empty pool gave {b['exhausted']}"


def test_freed_block_is_reused(out):
    b = basics(out)
    assert b["free_after_one"] == 1
    assert b["reused"] == b["ids"][3]


def test_bad_frees_rejected(out):
    b = basics(out)
    assert b["double_free"] == "ValueError", f"double free gave {b['double_free']}"
    assert b["free_unknown"] == "ValueError" and b["free_negative"] == "ValueError"
    assert b["free_after_bad_frees"] == 1, "a rejected free changed the free count"
    assert b["free_unknown_seq"] == "KeyError"


def test_trace_no_leak_no_double_allocation(out):
    n = out["num_blocks"]
    for i, s in enumerate(steps(out)):
        owned = [blk for t in s["tables"].values() for blk in t]
        assert all(0 <= blk < n for blk in owned), f"step {i}: block id out of range"
        assert len(owned) == len(set(owned)), f"step {i} ({s['op']}): a block is in two tables"
        assert s["num_free"] == n - len(owned), \
            f"step {i} ({s['op']}): {s['num_free']} free but {len(owned)} of {n} owned (leak?)"


def replayed_lengths(trace):
    """The token count of every live sequence after each recorded step, replayed here from
    the recorded operations and their outcomes (never the driver's own bookkeeping, which ran
    beside the student's code)."""
    live, after = {}, []
    for s in trace:
        seq = str(s["seq"])
        if s["op"] in ("new", "resume", "append") and s["outcome"] == "ok":
            live[seq] = live.get(seq, 0) + int(s["n"])
        elif s["op"] in ("finish", "preempt"):
            live.pop(seq, None)
        after.append(dict(live))
    return after


def test_trace_table_sizes(out):
    bs = out["block_size"]
    trace = steps(out)
    for i, (s, want) in enumerate(zip(trace, replayed_lengths(trace))):
        assert s["lengths"] == want, f"step {i}: token counts {s['lengths']}, expected {want}"
        for seq, table in s["tables"].items():
            need = -(-s["lengths"][seq] // bs)
            assert len(table) == need, f"step {i}: sequence {seq} holds {len(table)} blocks, needs {need}"


def test_trace_slots(out):
    bs = out["block_size"]
    prev_len = {}
    for i, s in enumerate(steps(out)):
        if s["outcome"] == "ok" and s["op"] in ("new", "resume", "append"):
            seq = str(s["seq"])
            start, table = prev_len.get(seq, 0), s["tables"][seq]
            want = [table[p // bs] * bs + p % bs for p in range(start, start + s["n"])]
            assert s["slots"] == want, f"step {i}: slots {s['slots']}, expected {want}"
        prev_len = s["lengths"]


def test_trace_failures_are_atomic(out):
    """NoFreeBlocks exactly when the blocks do not fit, and a failed append changes nothing."""
    trace = steps(out)
    for i in range(1, len(trace)):
        s, before = trace[i], trace[i - 1]
        if s["outcome"] == "NoFreeBlocks":
            assert s["tables"] == before["tables"] and s["num_free"] == before["num_free"], \
                f"step {i}: a failed append of {s['n']} tokens changed the state"


def test_trace_matches_reference(out, exp):
    """Same sequence of operations, outcomes and free counts as the reference (the trace
    depends only on counts, not on which block ids were picked), all blocks free at the end."""
    got = [[s["op"], s["seq"], s["n"], s["outcome"], s["num_free"]] for s in steps(out)]
    for i, (g, w) in enumerate(zip(got, exp["trace"])):
        assert g == w, f"step {i}: got {g}, expected {w}"
    assert len(got) == len(exp["trace"])
    assert got[-1][4] == out["num_blocks"], "blocks leaked at the end"
