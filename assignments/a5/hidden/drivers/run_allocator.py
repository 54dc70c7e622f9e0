"""Hidden driver (student code loaded; pure Python, no torch): the block allocator's basics,
then a seeded trace of appends, finishes and preemptions against BlockManager.
Writes /out/allocator.json; the checker verifies the invariants on every recorded state."""
import json
import os
import random
import traceback

OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "503"))
NUM_BLOCKS, BLOCK_SIZE, OPS = 24, 4, 300
result = {"errors": {}, "num_blocks": NUM_BLOCKS, "block_size": BLOCK_SIZE}


def part(name, fn):
    try:
        fn()
    except BaseException:  # noqa: BLE001 - record any failure of student code, keep going
        result["errors"][name] = traceback.format_exc(limit=3)[-2000:]


def outcome(fn, mod):
    try:
        return "ok", fn()
    except mod.NoFreeBlocks:
        return "NoFreeBlocks", None
    except ValueError:
        return "ValueError", None
    except KeyError:
        return "KeyError", None
    except Exception as e:  # noqa: BLE001
        return "error:" + type(e).__name__, None


def basics(mod):
    a = mod.BlockAllocator(8)
    b = {"initial_free": a.num_free}
    b["ids"] = [int(a.allocate()) for _ in range(8)]
    b["free_after_all"] = a.num_free
    b["exhausted"] = outcome(a.allocate, mod)[0]
    a.free(b["ids"][3])
    b["free_after_one"] = a.num_free
    b["reused"] = int(a.allocate())
    a.free(b["ids"][0])
    b["double_free"] = outcome(lambda: a.free(b["ids"][0]), mod)[0]
    b["free_unknown"] = outcome(lambda: a.free(99), mod)[0]
    b["free_negative"] = outcome(lambda: a.free(-1), mod)[0]
    b["free_after_bad_frees"] = a.num_free
    bm = mod.BlockManager(mod.BlockAllocator(4), 4)
    b["free_unknown_seq"] = outcome(lambda: bm.free(12345), mod)[0]
    result["basics"] = b


def trace(mod):
    rng = random.Random(SEED)
    alloc = mod.BlockAllocator(NUM_BLOCKS)
    bm = mod.BlockManager(alloc, BLOCK_SIZE)
    live, preempted, next_seq = {}, {}, 0
    steps = result["steps"] = []

    def record(op, seq, n, out, slots=None):
        steps.append({
            "op": op, "seq": seq, "n": n, "outcome": out,
            "slots": [int(s) for s in slots] if slots is not None else None,
            "num_free": int(alloc.num_free),
            "tables": {str(s): [int(b) for b in bm.block_table(s)] for s in sorted(live)},
            "lengths": {str(s): int(bm.num_tokens(s)) for s in sorted(live)},
        })

    def append(op, seq, n):
        out, slots = outcome(lambda: bm.append(seq, n), mod)
        if out == "ok":
            live[seq] = live.get(seq, 0) + n
        elif seq not in live:  # a new or resumed sequence that did not fit: retry later
            preempted[seq] = n
        record(op, seq, n, out, slots)
        if out == "NoFreeBlocks" and live:  # make room: preempt the longest sequence
            victim = max(live, key=lambda s: (live[s], s))
            preempted[victim] = live.pop(victim)
            record("preempt", victim, 0, outcome(lambda: bm.free(victim), mod)[0])

    for _ in range(OPS):
        r = rng.random()
        if preempted and r < 0.2:
            seq = min(preempted)
            append("resume", seq, preempted.pop(seq))
        elif not live or r < 0.4:
            append("new", next_seq, rng.randint(1, 14))
            next_seq += 1
        elif r < 0.8:
            append("append", rng.choice(sorted(live)), rng.choice([1, 1, 1, 2, 5]))
        else:
            seq = rng.choice(sorted(live))
            kind = "finish" if r < 0.92 else "preempt"
            if kind == "preempt":
                preempted[seq] = live[seq]
            del live[seq]
            record(kind, seq, 0, outcome(lambda: bm.free(seq), mod)[0])
    for seq in sorted(live):
        del live[seq]
        record("finish", seq, 0, outcome(lambda: bm.free(seq), mod)[0])


def main():
    import allocator

    part("basics", lambda: basics(allocator))
    part("trace", lambda: trace(allocator))


part("import", main)
with open(os.path.join(OUT, "allocator.json"), "w") as f:
    json.dump(result, f)
