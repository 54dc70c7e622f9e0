"""Block allocator and per-sequence block tables for a paged KV cache (pure Python)."""


class NoFreeBlocks(Exception):
    """Raised when an allocation needs more blocks than are free."""


class BlockAllocator:
    """Hands out block ids 0..num_blocks-1; each block is either free or owned by one sequence."""

    def __init__(self, num_blocks):
        """Keep self.num_blocks: the scheduler reads it."""
        # starter: solution-only
        self.num_blocks = num_blocks
        self._free = list(range(num_blocks - 1, -1, -1))  # stack: pops the lowest id first
        self._used = set()
        # starter: instead
        # raise NotImplementedError("TODO: BlockAllocator.__init__")
        # starter: end

    @property
    def num_free(self):
        """Number of free blocks."""
        # starter: solution-only
        return len(self._free)
        # starter: instead
        # raise NotImplementedError("TODO: BlockAllocator.num_free")
        # starter: end

    def allocate(self):
        """Returns a free block id; raises NoFreeBlocks when none is left."""
        # starter: solution-only
        if not self._free:
            raise NoFreeBlocks("no free block")
        block = self._free.pop()
        self._used.add(block)
        return block
        # starter: instead
        # raise NotImplementedError("TODO: BlockAllocator.allocate")
        # starter: end

    def free(self, block):
        """Gives block back; raises ValueError for a block that is not allocated (a double free,
        an id out of range) and changes nothing then."""
        # starter: solution-only
        if block not in self._used:
            raise ValueError(f"block {block} is not allocated")
        self._used.remove(block)
        self._free.append(block)
        # starter: instead
        # raise NotImplementedError("TODO: BlockAllocator.free")
        # starter: end


class BlockManager:
    """Maps each sequence to the blocks that hold its tokens' keys and values.
    Token i of a sequence lives in block table[i // block_size] at offset i % block_size;
    its slot in the cache is block * block_size + offset."""

    def __init__(self, allocator, block_size):
        self.allocator = allocator
        self.block_size = block_size
        self._tables = {}  # seq id -> list of block ids
        self._lengths = {}  # seq id -> number of tokens stored

    def num_tokens(self, seq_id):
        """Tokens stored for seq_id (0 for a sequence the manager does not know)."""
        # starter: solution-only
        return self._lengths.get(seq_id, 0)
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.num_tokens")
        # starter: end

    def block_table(self, seq_id):
        """A copy of seq_id's block ids, in token order ([] for an unknown sequence)."""
        # starter: solution-only
        return list(self._tables.get(seq_id, []))
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.block_table")
        # starter: end

    def blocks_needed(self, seq_id, n):
        """Extra blocks that appending n tokens to seq_id would allocate."""
        # starter: solution-only
        have = len(self._tables.get(seq_id, []))
        total = -(-(self.num_tokens(seq_id) + n) // self.block_size)
        return max(0, total - have)
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.blocks_needed")
        # starter: end

    def can_append(self, seq_id, n):
        """Whether append(seq_id, n) would succeed."""
        # starter: solution-only
        return self.blocks_needed(seq_id, n) <= self.allocator.num_free
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.can_append")
        # starter: end

    def append(self, seq_id, n):
        """Reserve room for n more tokens of seq_id; returns their n slots.
        All or nothing: raises NoFreeBlocks and changes nothing when the blocks do not fit."""
        # starter: solution-only
        if not self.can_append(seq_id, n):
            raise NoFreeBlocks(f"sequence {seq_id} needs {self.blocks_needed(seq_id, n)} blocks")
        table = self._tables.setdefault(seq_id, [])
        for _ in range(self.blocks_needed(seq_id, n)):
            table.append(self.allocator.allocate())
        start = self.num_tokens(seq_id)
        self._lengths[seq_id] = start + n
        bs = self.block_size
        return [table[i // bs] * bs + i % bs for i in range(start, start + n)]
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.append")
        # starter: end

    def free(self, seq_id):
        """Return every block of seq_id to the allocator (finished or preempted) and forget the
        sequence: a later append starts it again from token 0. Unknown seq_id: KeyError."""
        # starter: solution-only
        if seq_id not in self._tables:
            raise KeyError(f"unknown sequence {seq_id}")
        for block in self._tables.pop(seq_id):
            self.allocator.free(block)
        del self._lengths[seq_id]
        # starter: instead
        # raise NotImplementedError("TODO: BlockManager.free")
        # starter: end
