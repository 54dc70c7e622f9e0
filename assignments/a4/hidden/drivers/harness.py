"""Runs one distributed job for a hidden test (trusted code, but it shares the process with
the student's code, so the checker trusts only data it can verify by recomputing).

Children are forked after torch is imported once (spawn would import torch in every rank,
several seconds each on a busy 2-core machine). Every rank writes its results atomically as it
goes; a rank that raises writes error_r<rank>.txt, the others are then stopped and the driver
exits 0 so that the checker grades what was produced.
"""
import datetime
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

import common  # noqa: E402

ALLREDUCE_CALLS = [0]
_real_all_reduce = dist.all_reduce


def _counting_all_reduce(*args, **kwargs):
    ALLREDUCE_CALLS[0] += 1
    return _real_all_reduce(*args, **kwargs)


def install_counter():
    """Counts dist.all_reduce calls (only the self-reported test does); installed before the
    student's modules are imported so that `from torch.distributed import all_reduce` also
    gets the counting version. The student's code shares this process and can replace it:
    what it counts is self-reported."""
    dist.all_reduce = _counting_all_reduce
    dist.distributed_c10d.all_reduce = _counting_all_reduce


def report(key, value):
    """A self-reported fact, written through the channel (fd 3, a pipe the grader drains) as
    soon as it is known: one line of JSON in one write (atomic on a pipe up to 4096 bytes,
    also from forked ranks), which no exit handler or thread can edit afterwards. The checker
    takes the first line per key and fails a key reported twice."""
    fd = int(os.environ.get("GRADER_CHANNEL_FD", "-1"))
    line = (json.dumps({"key": key, "value": value}) + "\n").encode()
    if fd >= 0 and len(line) < 4096:
        os.write(fd, line)


def save_npy(name, array):
    path = os.path.join(common.OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float64), allow_pickle=False)
    os.replace(tmp, path)


def save_json(name, obj):
    path = os.path.join(common.OUT, name)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(path + ".tmp", path)


TIMEOUT = datetime.timedelta(seconds=60)


def _entry(rank, worker, cfg):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(cfg["port"])
    try:
        store = dist.TCPStore("127.0.0.1", cfg["port"], cfg["world"], False, timeout=TIMEOUT)
        dist.init_process_group("gloo", store=store, rank=rank, world_size=cfg["world"],
                                timeout=TIMEOUT)
        worker(rank, cfg)
    except BaseException:
        with open(os.path.join(common.OUT, f"error_r{rank}.txt"), "w", encoding="utf-8") as f:
            f.write(traceback.format_exc()[-4000:])
        raise


def launch(worker, cfg):
    """Runs worker(rank, cfg) on cfg['world'] forked ranks; returns True when all succeeded."""
    os.makedirs(common.OUT, exist_ok=True)
    # The store's server listens before any rank starts: a rank that connects to a store not
    # yet listening retries only after a second, which happened to about one job in three.
    server = dist.TCPStore("127.0.0.1", cfg["port"], cfg["world"], True, timeout=TIMEOUT,
                           wait_for_workers=False)
    try:
        mp.start_processes(_entry, args=(worker, cfg), nprocs=cfg["world"], join=True,
                           start_method="fork")
        return True
    except Exception as e:  # a rank failed: the others were stopped; report and go on
        print(f"distributed job failed: {str(e)[-2000:]}", file=sys.stderr)
        return False
    finally:
        # At once, as in handout/tests/test_public.py (a store kept alive after its job hung
        # the hostile variant's public run there).
        del server


def import_student(*names):
    """Imports the student's modules (after install_counter); a failure is reported by the
    checker as a missing output, with the error text here."""
    try:
        return [__import__(n) for n in names]
    except BaseException:
        with open(os.path.join(common.OUT, "error_r0.txt"), "w", encoding="utf-8") as f:
            f.write("importing the submission failed:\n" + traceback.format_exc()[-4000:])
        print(traceback.format_exc(), file=sys.stderr)
        sys.exit(0)


def train_ddp(rank, cfg, ddp_module, zero_module=None, report_as=None):
    """DDP training as the student's code sees it: every step records the rank's flat
    parameters; with report_as, also how many all_reduce calls the step made (through the
    channel, self-reported)."""
    world = cfg["world"]
    model = common.make_model(cfg, rank)
    ddp = ddp_module.DistributedDataParallel(model, bucket_cap_numel=cfg["bucket_cap"])
    if cfg["optimizer"] == "adam_sharded":
        opt = zero_module.ShardedOptimizer(ddp.parameters(), torch.optim.Adam, lr=0.05)
    else:
        opt = common.make_optimizer(cfg, ddp.parameters())
    x, y = common.make_data(cfg)
    rows = [common.flat_params(model)]
    save_npy(f"params_r{rank}.npy", np.stack(rows))
    for s in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        ALLREDUCE_CALLS[0] = 0
        out = ddp(common.local_rows(x[s], rank, world), rank)
        loss = torch.nn.functional.mse_loss(out, common.local_rows(y[s], rank, world))
        loss.backward()
        ddp.finish_gradient_sync()
        if report_as:
            report(f"{report_as}/allreduce_calls/r{rank}/step{s}", ALLREDUCE_CALLS[0])
        opt.step()
        rows.append(common.flat_params(model))
        save_npy(f"params_r{rank}.npy", np.stack(rows))
