"""Public tests: the scheduler and the engine."""
import torch

import gpt
from allocator import BlockAllocator, BlockManager
from engine import Engine
from scheduler import Request, Scheduler


def test_scheduler_preempts_and_finishes():
    bm = BlockManager(BlockAllocator(4), block_size=2)
    sch = Scheduler(bm, max_batch_size=2)
    reqs = [Request(0, [1, 2, 3], 3), Request(1, [4, 5], 3)]
    for r in reqs:
        sch.add_request(r)
    steps = 0
    while sch.has_unfinished():
        batch = sch.schedule()
        assert batch and len(batch) <= 2
        sch.update({s.request.rid: 9 for s in batch})
        steps += 1
        assert steps < 20
    assert [r.output for r in reqs] == [[9, 9, 9], [9, 9, 9]]
    assert sch.num_preemptions >= 1 and bm.allocator.num_free == 4


def test_engine_matches_generate():
    torch.set_num_threads(1)
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=8)
    eng = Engine(model, num_blocks=8, block_size=4, max_batch_size=3)
    prompts = [[1, 2, 3], [7] * 9, [100, 20, 30, 40, 50]]
    rids = [eng.add_request(p, 8) for p in prompts]
    outputs = eng.run()
    for rid, p in zip(rids, prompts):
        assert outputs[rid] == gpt.generate_nocache(model, p, 8)
