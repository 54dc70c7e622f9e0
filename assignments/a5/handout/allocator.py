"""Block allocator and per-sequence block tables for a paged KV cache (pure Python)."""


class NoFreeBlocks(Exception):
    """Raised when an allocation needs more blocks than are free."""


class BlockAllocator:
    """Hands out block ids 0..num_blocks-1; each block is either free or owned by one sequence."""

    def __init__(self, num_blocks):
        """Keep self.num_blocks: the scheduler reads it."""
        raise NotImplementedError("TODO: BlockAllocator.__init__")

    @property
    def num_free(self):
        """Number of free blocks."""
        raise NotImplementedError("TODO: BlockAllocator.num_free")

    def allocate(self):
        """Returns a free block id; raises NoFreeBlocks when none is left."""
        raise NotImplementedError("TODO: BlockAllocator.allocate")

    def free(self, block):
        """Gives block back; raises ValueError for a block that is not allocated (a double free,
        an id out of range) and changes nothing then."""
        raise NotImplementedError("TODO: BlockAllocator.free")


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
        raise NotImplementedError("TODO: BlockManager.num_tokens")

    def block_table(self, seq_id):
        """A copy of seq_id's block ids, in token order ([] for an unknown sequence)."""
        raise NotImplementedError("TODO: BlockManager.block_table")

    def blocks_needed(self, seq_id, n):
        """Extra blocks that appending n tokens to seq_id would allocate."""
        raise NotImplementedError("TODO: BlockManager.blocks_needed")

    def can_append(self, seq_id, n):
        """Whether append(seq_id, n) would succeed."""
        raise NotImplementedError("TODO: BlockManager.can_append")

    def append(self, seq_id, n):
        """Reserve room for n more tokens of seq_id; returns their n slots.
        All or nothing: raises NoFreeBlocks and changes nothing when the blocks do not fit."""
        raise NotImplementedError("TODO: BlockManager.append")

    def free(self, seq_id):
        """Return every block of seq_id to the allocator (finished or preempted) and forget the
        sequence: a later append starts it again from token 0. Unknown seq_id: KeyError."""
        raise NotImplementedError("TODO: BlockManager.free")
