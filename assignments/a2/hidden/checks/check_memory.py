"""hidden_memory checker (trusted box, no student code): reads memory.json and the dumped
saved tensors; the attention's backward may keep O(N d) data, never an Nq x Nk matrix."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import numpy as np  # noqa: E402

import cases  # noqa: E402
import reference  # noqa: E402

OUT = os.environ.get("GRADER_OUT", "/out")
CONFIGS = {c["name"]: (i, c) for i, c in enumerate(cases.MEMORY_CONFIGS)}


def load_report():
    path = os.path.join(OUT, "memory.json")
    assert os.path.isfile(path), "memory.json missing: the driver did not finish"
    with open(path) as f:
        report = json.load(f)
    assert isinstance(report, dict) and report.get("version") == 1, "memory.json: bad format"
    return report


def run_of(name):
    report = load_report()
    run = report.get("runs", {}).get(name)
    if run is None:
        error = str(report.get("errors", {}).get(name, report.get("errors", {}).get("import")))
        pytest.fail(f"{name}: flash_attention did not run: {error[-400:]}")
    return run


def sizes(entry):
    return [max(int(t["numel"]), int(t["storage_numel"])) for t in entry["saved"] + entry["stashed"]]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_custom_function(name):
    nodes = run_of(name)["nodes"]
    assert any(n["custom"] for n in nodes), (
        f"{name}: no torch.autograd.Function in the graph of the output "
        f"(nodes: {', '.join(str(n['name'])[:40] for n in nodes[:8])})")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_no_quadratic_tensor(name):
    _, config = CONFIGS[name]
    heads = int(np.prod(config["shape"]))
    quadratic = config["nq"] * config["nk"]
    total = 0
    for node in run_of(name)["nodes"]:
        for n in sizes(node):
            assert n < quadratic, (
                f"{name}: {node['name'][:60]} keeps a tensor of {n} elements for backward "
                f"(Nq x Nk = {quadratic}); recompute the probabilities from the logsumexp")
            total += n
    # Pieces of P saved block by block add up too.
    assert total < heads * quadratic // 2, (
        f"{name}: {total} elements kept for backward in all; the output, the logsumexp and "
        f"the inputs take {heads * (3 * config['nq'] + config['nk']) * config['d']}")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_saves_output_and_logsumexp(name):
    """The output the function returned (whether right or wrong: hidden_attention judges
    that) and the true row logsumexp are among the saved tensors."""
    i, config = CONFIGS[name]
    _, want_lse = reference.attention(*cases.memory_inputs(config, i), config["causal"])
    nodes = run_of(name)["nodes"]
    path = os.path.join(OUT, f"{name}_output.npy")
    assert os.path.isfile(path), f"{name}: the driver did not write the output"
    output = np.load(path, allow_pickle=False).astype(np.float64).ravel()
    saved = []
    for node in nodes:
        for file in node.get("dumped", []):
            path = os.path.join(OUT, os.path.basename(str(file)))
            if os.path.isfile(path):
                saved.append(np.load(path, allow_pickle=False).astype(np.float64).ravel())

    def among(want, rtol):
        return any(a.size == want.size and np.allclose(a, want, rtol=rtol, atol=1e-12)
                   for a in saved)

    assert among(output, 1e-9), f"{name}: the output is not among the saved tensors"
    assert among(want_lse.ravel(), 1e-7), (
        f"{name}: the row logsumexp (shape {list(want_lse.shape)}) is not among the saved "
        "tensors")
