"""Hidden test tp: column/row-parallel Linear, forward and backward, on 2 ranks."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import common  # noqa: E402

CFG = common.CONFIGS["tp"]


def check(case, forward):
    for rank in range(CFG["world"]):
        want, sizes = common.tp_reference(case, CFG, rank)
        got = common.load_npy(f"tp_{case}_r{rank}.npy")
        if got.shape != want.shape:
            raise AssertionError(f"rank {rank}: {got.size} numbers reported, expected {want.size}")
        names = ["output", "input gradient"] + [f"parameter gradient {i}" for i in range(len(sizes) - 2)]
        start = 0
        for name, n in zip(names, sizes):
            if (name == "output") == forward:
                common.close(got[start:start + n], want[start:start + n], f"rank {rank}, {case}: {name}")
            start += n


@pytest.mark.parametrize("case", common.TP_CASES)
def test_forward(case):
    check(case, forward=True)


@pytest.mark.parametrize("case", common.TP_CASES)
def test_backward(case):
    check(case, forward=False)
