"""Regenerates hidden/expected/* from the reference solution.
Run: /usr/bin/python3 assignments/a5/hidden/make_expected.py   (about 10 s; commit the output)

Each driver runs on the reference solution; its outputs become the expected data after they are
checked against an independent computation: greedy tokens against decoding without a cache,
paged attention against plain attention over the gathered keys."""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
A5 = os.path.dirname(HERE)
SOLUTION = os.path.join(A5, "solution")
SEEDS = {"decode": 501, "paged": 502, "allocator": 503, "serving": 504, "quant": 505}
sys.path.insert(0, SOLUTION)
import gpt  # noqa: E402
import quant  # noqa: E402


def run_driver(name):
    out = tempfile.mkdtemp(prefix=f"a5-{name}-")
    env = dict(os.environ, PYTHONPATH=SOLUTION, GRADER_OUT=out, GRADER_SEED=str(SEEDS[name]),
               OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, os.path.join(HERE, "drivers", f"run_{name}.py")], env=env, check=True)
    with open(os.path.join(out, f"{name}.json")) as f:
        data = json.load(f)
    assert not data["errors"], data["errors"]
    return out, data


def load_driver(name):
    spec = importlib.util.spec_from_file_location(f"driver_{name}", os.path.join(HERE, "drivers", f"run_{name}.py"))
    return spec


def fresh_dir(name):
    d = os.path.join(HERE, "expected", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def greedy_margin(model, prompt, n):
    """Smallest gap between the two best logits along the greedy path (ties would make the
    expected tokens depend on rounding)."""
    seq, gap = list(prompt), math.inf
    for _ in range(n):
        top = model(torch.tensor(seq))[-1].topk(2).values
        gap = min(gap, float(top[0] - top[1]))
        seq.append(int(model(torch.tensor(seq))[-1].argmax()))
    return gap


def decode():
    out, data = run_driver("decode")
    exp = fresh_dir("decode")
    seed = SEEDS["decode"]
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=seed)
    g = torch.Generator().manual_seed(seed)
    prompts = [torch.randint(0, 128, (n,), generator=g).tolist() for n in [1, 5, 16, 40]]
    greedy = {}
    for i, p in enumerate(prompts):
        greedy[str(i)] = gpt.generate_nocache(model, p, 24)
        assert greedy[str(i)] == data["greedy"][str(i)], "cached != uncached"
        assert greedy_margin(model, p, 24) > 1e-3, f"prompt {i}: near tie"
    np.save(os.path.join(exp, "stepwise.npy"), model(torch.tensor(prompts[2])).numpy())
    np.save(os.path.join(exp, "chunked.npy"), model(torch.tensor(prompts[3])).numpy())
    for f in ("stepwise", "chunked"):
        assert np.allclose(np.load(os.path.join(out, f"{f}.npy")), np.load(os.path.join(exp, f"{f}.npy")), atol=1e-5)
    json.dump({"greedy": greedy, "chunked_cache_length": 40}, open(os.path.join(exp, "decode.json"), "w"))


def paged():
    out, _ = run_driver("paged")
    exp = fresh_dir("paged")
    spec = load_driver("paged")
    drv = importlib.util.module_from_spec(spec)
    source = open(spec.origin).read().split("\ndef part(")[0]  # constants and make_case only
    exec(compile(source, spec.origin, "exec"), drv.__dict__)
    for i, case in enumerate(drv.CASES):
        q, kb, vb, tables, lens = drv.make_case(SEEDS["paged"] + i, *case)
        rows = []
        for r in range(q.shape[0]):  # plain attention over the gathered, contiguous keys
            blocks = [b for b in tables[r].tolist() if b >= 0]
            k = torch.cat([kb[b] for b in blocks])[: lens[r]]
            v = torch.cat([vb[b] for b in blocks])[: lens[r]]
            rows.append(gpt.attention(q[r:r + 1], k, v, torch.ones(1, int(lens[r]), dtype=torch.bool)))
        ref = torch.cat(rows).numpy()
        assert np.allclose(np.load(os.path.join(out, f"case_{i}.npy")), ref, atol=1e-5)
        np.save(os.path.join(exp, f"case_{i}.npy"), ref)
    for f in ("write_k", "write_v"):
        shutil.copy(os.path.join(out, f"{f}.npy"), exp)


def allocator():
    _, data = run_driver("allocator")
    exp = fresh_dir("allocator")
    summary = [[s["op"], s["seq"], s["n"], s["outcome"], s["num_free"]] for s in data["steps"]]
    kinds = {s[3] for s in summary}
    assert "NoFreeBlocks" in kinds and any(s[0] == "resume" and s[3] == "ok" for s in summary)
    json.dump({"trace": summary, "basics": data["basics"]}, open(os.path.join(exp, "allocator.json"), "w"))


def serving():
    _, data = run_driver("serving")
    exp = fresh_dir("serving")
    seed = SEEDS["serving"]
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=seed)
    g = torch.Generator().manual_seed(seed)
    engine_expected = {}
    for i in range(data["engine_config"]["requests"]):
        n = int(torch.randint(1, 12, (1,), generator=g))
        prompt = torch.randint(0, 128, (n,), generator=g).tolist()
        engine_expected[str(i)] = gpt.generate_nocache(model, prompt, 6 + 2 * i)
        assert greedy_margin(model, prompt, 6 + 2 * i) > 1e-3
    assert data["engine_outputs"] == engine_expected
    assert data["engine_preemptions"] >= 1 and data["sched_steps"][-1]["preemptions"] >= 1
    json.dump({"engine_outputs": engine_expected, "sched_outputs": data["sched_outputs"],
               "sched_steps": len(data["sched_steps"]),
               "sched_preemptions": data["sched_steps"][-1]["preemptions"]},
              open(os.path.join(exp, "serving.json"), "w"))


def quant_expected():
    out, data = run_driver("quant")
    exp = fresh_dir("quant")
    for f in ("q", "scale", "logits_int8"):
        shutil.copy(os.path.join(out, f"{f}.npy"), exp)
    seed = SEEDS["quant"]
    model = gpt.TinyGPT(gpt.GPTConfig(), seed=seed)
    tokens = torch.randint(0, 128, (48,), generator=torch.Generator().manual_seed(seed))
    np.save(os.path.join(exp, "logits_float.npy"), model(tokens).numpy())
    assert np.load(os.path.join(exp, "q.npy")).dtype == np.int8


def perf_tokens():
    cfg = gpt.GPTConfig(d_model=128, n_heads=4, n_layers=4, d_ff=512, max_seq_len=256)
    model = gpt.TinyGPT(cfg, seed=7)
    prompt = torch.randint(0, cfg.vocab_size, (16,), generator=torch.Generator().manual_seed(11)).tolist()
    tokens = gpt.generate(model, prompt, 40)
    assert tokens == gpt.generate_nocache(model, prompt, 40)  # the perf checker compares the two


if __name__ == "__main__":
    torch.set_num_threads(1)
    decode()
    paged()
    allocator()
    serving()
    quant_expected()
    perf_tokens()
    print("expected data written under", os.path.join(HERE, "expected"))
