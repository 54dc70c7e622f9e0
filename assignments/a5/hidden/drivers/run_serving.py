"""Hidden driver (student code loaded): continuous batching.
Part 1: the Scheduler alone on a seeded request trace (arrivals over time, a tight block
budget, tokens from a fixed function instead of a model); every step is recorded.
Part 2: the Engine with the tiny GPT over a paged cache; its outputs are recorded.
Writes /out/serving.json."""
import json
import os
import random
import traceback

OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "504"))
SCHED = {"num_blocks": 20, "block_size": 4, "max_batch_size": 5, "requests": 16, "max_steps": 600}
ENGINE = {"num_blocks": 10, "block_size": 4, "max_batch_size": 4, "requests": 6, "max_steps": 300}
result = {"errors": {}, "sched_config": SCHED, "engine_config": ENGINE}


def part(name, fn):
    try:
        fn()
    except BaseException:  # noqa: BLE001 - record any failure of student code, keep going
        result["errors"][name] = traceback.format_exc(limit=3)[-2000:]


def fake_token(rid, index):
    return (rid * 31 + index * 7) % 128


def sched_trace():
    rng = random.Random(SEED)
    reqs = []
    for rid in range(SCHED["requests"]):
        arrival = rng.randint(0, 30)
        prompt = [rng.randrange(128) for _ in range(rng.randint(1, 20))]
        reqs.append((arrival, rid, prompt, rng.randint(1, 24)))
    reqs.sort()
    result["sched_requests"] = [[a, rid, len(p), m] for a, rid, p, m in reqs]
    return reqs


def run_scheduler():
    import allocator
    import scheduler

    reqs = sched_trace()
    bm = allocator.BlockManager(allocator.BlockAllocator(SCHED["num_blocks"]), SCHED["block_size"])
    sch = scheduler.Scheduler(bm, SCHED["max_batch_size"])
    pending, live, steps, outputs = list(reqs), {}, [], {}
    result["sched_steps"] = steps
    result["sched_outputs"] = outputs
    for step in range(SCHED["max_steps"]):
        while pending and pending[0][0] <= step:
            _, rid, prompt, max_new = pending.pop(0)
            live[rid] = scheduler.Request(rid, list(prompt), max_new)
            sch.add_request(live[rid])
        if not pending and not sch.has_unfinished():
            break
        batch = sch.schedule()
        tables = {str(s.request.rid): [int(b) for b in bm.block_table(s.request.rid)] for s in batch}
        steps.append({
            "step": step,
            "batch": [[int(s.request.rid), len(s.tokens), int(s.positions[0]) if s.positions else -1,
                       len(s.request.prompt) + len(s.request.output)] for s in batch],
            "slot_lengths": [[len(s.slots), len(s.tokens), len(s.positions)] for s in batch],
            "tables": tables,
            "lengths": {r: int(bm.num_tokens(int(r))) for r in tables},
            "num_free": int(bm.allocator.num_free),
            "preemptions": int(sch.num_preemptions),
        })
        sampled = {s.request.rid: fake_token(s.request.rid, len(s.request.output)) for s in batch}
        for req in sch.update(sampled):
            outputs[str(req.rid)] = [int(t) for t in req.output]
    result["sched_free_at_end"] = int(bm.allocator.num_free)


def run_engine():
    import torch

    torch.set_num_threads(1)
    import engine
    import gpt

    model = gpt.TinyGPT(gpt.GPTConfig(), seed=SEED)
    g = torch.Generator().manual_seed(SEED)
    eng = engine.Engine(model, ENGINE["num_blocks"], ENGINE["block_size"], ENGINE["max_batch_size"])
    rids = []
    for i in range(ENGINE["requests"]):
        n = int(torch.randint(1, 12, (1,), generator=g))
        prompt = torch.randint(0, 128, (n,), generator=g).tolist()
        rids.append(eng.add_request(prompt, 6 + 2 * i))
    outputs = result["engine_outputs"] = {}
    for _ in range(ENGINE["max_steps"]):
        if not eng.scheduler.has_unfinished():
            break
        for req in eng.step():
            outputs[str(rids.index(req.rid))] = [int(t) for t in req.output]
    result["engine_preemptions"] = int(eng.scheduler.num_preemptions)


part("scheduler", run_scheduler)
part("engine", run_engine)
with open(os.path.join(OUT, "serving.json"), "w") as f:
    json.dump(result, f)
