"""Serving engine: continuous batching over a paged KV cache with the tiny GPT."""
import torch

from allocator import BlockAllocator, BlockManager
from paged import PagedBatch, PagedKVCache
from scheduler import Request, Scheduler


class Engine:
    def __init__(self, model, num_blocks, block_size, max_batch_size):
        cfg = model.cfg
        self.model = model
        self.block_manager = BlockManager(BlockAllocator(num_blocks), block_size)
        self.scheduler = Scheduler(self.block_manager, max_batch_size)
        self.cache = PagedKVCache(cfg.n_layers, num_blocks, block_size, cfg.n_heads, cfg.head_dim)
        self._next_rid = 0

    def add_request(self, prompt, max_new_tokens):
        rid = self._next_rid
        self._next_rid += 1
        self.scheduler.add_request(Request(rid, list(prompt), max_new_tokens))
        return rid

    @torch.no_grad()
    def step(self):
        """Run one batched forward over everything the scheduler picked; greedy-sample one token
        per scheduled sequence. Returns the requests that finished in this step."""
        raise NotImplementedError("TODO: Engine.step")

    def run(self):
        """Step until every request finished; returns {rid: output tokens}."""
        outputs = {}
        while self.scheduler.has_unfinished():
            for req in self.step():
                outputs[req.rid] = list(req.output)
        return outputs
