"""Hidden driver (student code loaded): paged attention over shuffled block tables, and the
paged cache's write(). Writes /out/paged.json and /out/case_<i>.npy, /out/write_k.npy, write_v.npy."""
import json
import os
import traceback

import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.environ.get("GRADER_OUT", "/out")
SEED = int(os.environ.get("GRADER_SEED", "502"))
# (block_size, num_blocks, heads, head_dim, context lengths of the query rows, rows per sequence)
CASES = [
    (4, 16, 2, 8, [1, 4, 5, 13], 1),       # a single slot, an exact block, a partial last block
    (8, 24, 4, 16, [16, 3, 31, 8, 9], 1),  # uneven tables, padded with -1
    (1, 12, 2, 4, [1, 2, 7], 1),           # block size 1
    (16, 8, 2, 8, [1, 2, 17, 30], 4),      # prefill: 4 rows of one sequence, growing lengths
]
result = {"errors": {}}


def make_case(seed, bs, nb, h, d, lens, rows_per_seq):
    """Random cache and queries; each sequence owns a random set of blocks."""
    g = torch.Generator().manual_seed(seed)
    k_blocks = torch.randn(nb, bs, h, d, generator=g)
    v_blocks = torch.randn(nb, bs, h, d, generator=g)
    perm = torch.randperm(nb, generator=g).tolist()
    n_seqs = len(lens) // rows_per_seq
    tables = []
    for s in range(n_seqs):
        longest = max(lens[s * rows_per_seq:(s + 1) * rows_per_seq])
        need = -(-longest // bs)
        tables.append(perm[:need])
        perm = perm[need:]
    width = max(len(t) for t in tables)
    block_tables = torch.full((len(lens), width), -1, dtype=torch.long)
    for row in range(len(lens)):
        t = tables[row // rows_per_seq]
        block_tables[row, :len(t)] = torch.tensor(t)
    q = torch.randn(len(lens), h, d, generator=g)
    return q, k_blocks, v_blocks, block_tables, torch.tensor(lens)


def part(name, fn):
    try:
        fn()
    except BaseException:  # noqa: BLE001 - record any failure of student code, keep going
        result["errors"][name] = traceback.format_exc(limit=3)[-2000:]


def main():
    import paged

    for i, (bs, nb, h, d, lens, rps) in enumerate(CASES):
        def run(i=i, args=(bs, nb, h, d, lens, rps)):
            inputs = make_case(SEED + i, *args)
            out = paged.paged_attention(*inputs)
            np.save(os.path.join(OUT, f"case_{i}.npy"), out.detach().numpy().astype(np.float32))
        part(f"case_{i}", run)

    def write():
        g = torch.Generator().manual_seed(SEED + 100)
        cache = paged.PagedKVCache(2, 6, 4, 2, 4)
        slots = torch.randperm(24, generator=g)[:10]
        k, v = torch.randn(10, 2, 4, generator=g), torch.randn(10, 2, 4, generator=g)
        cache.write(1, slots, k, v)
        np.save(os.path.join(OUT, "write_k.npy"), cache.k.numpy().astype(np.float32))
        np.save(os.path.join(OUT, "write_v.npy"), cache.v.numpy().astype(np.float32))
    part("write", write)


part("import", main)
with open(os.path.join(OUT, "paged.json"), "w") as f:
    json.dump(result, f)
