"""Continuous batching: which sequences run at each step, under a fixed KV block budget
(pure Python; the engine in engine.py runs the model on what the scheduler picks)."""
from dataclasses import dataclass, field


@dataclass
class Request:
    rid: int
    prompt: list
    max_new_tokens: int
    output: list = field(default_factory=list)

    @property
    def tokens(self):
        return self.prompt + self.output

    @property
    def done(self):
        return len(self.output) >= self.max_new_tokens


@dataclass
class Scheduled:
    """One sequence's share of a step: feed `tokens` at `positions`, store their K/V at `slots`."""
    request: Request
    tokens: list
    positions: list
    slots: list


class Scheduler:
    """Policy (the README spells it out; the hidden tests rely on it):
    1. Running sequences, oldest admission first, each get one decode slot. When the blocks do
       not fit, preempt the most recently admitted running sequence (free all its blocks, put it
       at the front of the waiting queue) and retry; a sequence may preempt itself.
    2. If nothing was preempted in this step, admit waiting requests in FCFS order while the
       batch has fewer than max_batch_size sequences and the whole of the next one's tokens
       (prompt + output so far: recompute after preemption) fit; stop at the first that does not.
    """

    def __init__(self, block_manager, max_batch_size):
        self.bm = block_manager
        self.max_batch_size = max_batch_size
        self.waiting = []  # FCFS queue of Request
        self.running = []  # admission order, oldest first
        self.num_preemptions = 0
        self._last = []

    def add_request(self, request):
        total = len(request.prompt) + request.max_new_tokens
        capacity = self.bm.allocator.num_blocks * self.bm.block_size
        if total > capacity:
            raise ValueError(f"request {request.rid} needs {total} slots, the cache has {capacity}")
        self.waiting.append(request)

    def has_unfinished(self):
        return bool(self.waiting or self.running)

    def _preempt(self, request):
        """Free all of request's blocks and put it at the front of the waiting queue."""
        # starter: solution-only
        self.bm.free(request.rid)
        self.running.remove(request)
        self.waiting.insert(0, request)
        self.num_preemptions += 1
        # starter: instead
        # raise NotImplementedError("TODO: Scheduler._preempt")
        # starter: end

    def schedule(self):
        """Pick this step's work; returns a list of Scheduled."""
        # starter: solution-only
        batch = []
        preempted = False
        for req in list(self.running):
            if req not in self.running:  # preempted earlier in this loop
                continue
            while not self.bm.can_append(req.rid, 1):
                victim = self.running[-1]
                self._preempt(victim)
                preempted = True
                if victim is req:
                    break
            if req in self.running:
                pos = len(req.tokens) - 1
                batch.append(Scheduled(req, [req.tokens[-1]], [pos], self.bm.append(req.rid, 1)))
        while (not preempted and self.waiting and len(self.running) < self.max_batch_size):
            req = self.waiting[0]
            n = len(req.tokens)
            if not self.bm.can_append(req.rid, n):
                break
            self.waiting.pop(0)
            self.running.append(req)
            batch.append(Scheduled(req, list(req.tokens), list(range(n)), self.bm.append(req.rid, n)))
        self._last = batch
        return batch
        # starter: instead
        # raise NotImplementedError("TODO: Scheduler.schedule")
        # starter: end

    def update(self, sampled):
        """sampled: {rid: next token} for every sequence of the last schedule().
        Returns the requests that finished (their blocks are freed)."""
        # starter: solution-only
        finished = []
        for s in self._last:
            req = s.request
            req.output.append(sampled[req.rid])
            if req.done:
                self.bm.free(req.rid)
                self.running.remove(req)
                finished.append(req)
        self._last = []
        return finished
        # starter: instead
        # raise NotImplementedError("TODO: Scheduler.update")
        # starter: end
