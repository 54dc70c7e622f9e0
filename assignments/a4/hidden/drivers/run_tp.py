"""Driver of the hidden test tp: column/row-parallel Linear forward and backward."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

(tp,) = harness.import_student("tp")
common = harness.common
CFG = common.CONFIGS["tp"]


def run_case(case, cfg):
    import torch

    layers, x, t = common.make_tp_case(case, cfg)
    x = x.clone().requires_grad_(True)
    if case == "column":
        mods = [tp.ColumnParallelLinear(layers[0], gather_output=True)]
        y = mods[0](x)
    elif case == "row":
        mods = [tp.RowParallelLinear(layers[0], input_is_parallel=False)]
        y = mods[0](x)
    else:
        mods = [tp.ColumnParallelLinear(layers[0], gather_output=False),
                tp.RowParallelLinear(layers[1], input_is_parallel=True)]
        y = mods[1](torch.tanh(mods[0](x)))
    common.tp_loss(y, t).backward()
    parts = [y.detach(), x.grad]
    for m in mods:
        parts += [m.weight.grad, m.bias.grad]
    return torch.cat([p.reshape(-1) for p in parts]).numpy()


def worker(rank, cfg):
    harness.save_npy(f"tp_{cfg['case']}_r{rank}.npy", run_case(cfg["case"], cfg))


if __name__ == "__main__":
    # One job per case, each on its own port, so that a case that fails on one rank only
    # (and may leave the other waiting in a collective) cannot take the other cases down.
    for i, case in enumerate(common.TP_CASES):
        harness.launch(worker, dict(CFG, case=case, port=CFG["port"] + i))
