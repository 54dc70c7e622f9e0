"""Public tests: block allocator and block manager."""
import pytest

from allocator import BlockAllocator, BlockManager, NoFreeBlocks


def test_allocate_free_reuse():
    a = BlockAllocator(3)
    ids = [a.allocate() for _ in range(3)]
    assert sorted(ids) == [0, 1, 2] and a.num_free == 0
    with pytest.raises(NoFreeBlocks):
        a.allocate()
    a.free(ids[1])
    assert a.num_free == 1 and a.allocate() == ids[1]
    with pytest.raises(ValueError):
        a.free(7)


def test_block_manager_slots():
    bm = BlockManager(BlockAllocator(4), block_size=4)
    slots = bm.append("a", 6)  # two blocks
    table = bm.block_table("a")
    assert len(table) == 2 and bm.num_tokens("a") == 6
    assert slots == [table[i // 4] * 4 + i % 4 for i in range(6)]
    with pytest.raises(NoFreeBlocks):
        bm.append("b", 9)  # needs 3 blocks, 2 are free
    assert bm.allocator.num_free == 2 and bm.block_table("b") == []
    bm.free("a")
    assert bm.allocator.num_free == 4
