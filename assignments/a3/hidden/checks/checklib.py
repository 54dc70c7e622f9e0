"""Shared by the A3 checkers. They run with no student code loaded: the student's outputs
are in $GRADER_OUT (untrusted data: .npy loaded without pickle, JSON parsed, sizes capped)
and the expected data in $GRADER_EXPECTED. The graphs the passes produced arrive as data
(drivers/graphdata.py): the checker rebuilds each from its allow-list, runs it on inputs it
regenerates and counts its nodes itself."""

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drivers"))
import a3_models as M  # noqa: E402  (trusted models and counts; no student code)
import graphdata  # noqa: E402

OUT = Path(os.environ.get("GRADER_OUT", "/out"))
EXPECTED = Path(os.environ.get("GRADER_EXPECTED", "/expected"))
MAX_BYTES = 8 << 20


def student_error(case):
    """The error the driver recorded for this case (or for the import), for the message."""
    try:
        path = OUT / "errors.json"
        if not path.is_symlink() and path.is_file() and path.stat().st_size < MAX_BYTES:
            errors = json.loads(path.read_text())
            if isinstance(errors, dict):
                text = errors.get(case) or errors.get("import")
                if isinstance(text, str):
                    return text[-600:]
    except (OSError, ValueError):
        pass
    return None


def load_student(name, case):
    path = OUT / name
    if path.is_symlink():
        raise AssertionError(f"output {name} is a symbolic link")
    if not path.is_file():
        error = student_error(case)
        raise AssertionError(
            f"no output {name}" + (f": your code raised {error}" if error else "")
        )
    if path.stat().st_size > MAX_BYTES:
        raise AssertionError(f"output {name} is too large")
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise AssertionError(f"output {name} is not a readable .npy file ({exc})") from None
    if array.dtype.kind not in "fiub":
        raise AssertionError(f"output {name} has dtype {array.dtype}, not numbers")
    return array.astype(np.float64)


def expected_names(case):
    names = sorted(p.name for p in EXPECTED.glob(f"{case}__*.npy"))
    assert names, f"checker setup: no expected data for {case} in {EXPECTED}"
    return names


def load_facts(case):
    """The JSON facts the driver wrote for the case (counts, a plan)."""
    path = OUT / f"{case}.json"
    if path.is_symlink() or not path.is_file():
        error = student_error(case)
        raise AssertionError(f"no output {case}.json" + (f": your code raised {error}" if error else ""))
    if path.stat().st_size > MAX_BYTES:
        raise AssertionError(f"output {case}.json is too large")
    try:
        facts = json.loads(path.read_text())
    except ValueError as exc:
        raise AssertionError(f"output {case}.json is not JSON ({exc})") from None
    if not isinstance(facts, dict):
        raise AssertionError(f"output {case}.json is not an object")
    return facts


def expected_facts(case):
    return json.loads((EXPECTED / f"{case}.json").read_text())


SEEDS = {"fold": 3101, "dead": 3101, "inplace": 3101, "conv_bn_sequential": 3102,
         "conv_bn_tricky": 3102, "fuse_chains": 3103, "fuse_trees": 3103}
FACTS = {"call_nodes": M.call_nodes, "constant_call_nodes": M.constant_call_nodes,
         "inplace_calls": M.inplace_calls, "batchnorm_calls": M.batchnorm_calls,
         "fused_group_sizes": M.fused_group_sizes}
_REBUILT = {}


def rebuilt(case):
    """The student's graph for the case, rebuilt here from the data the run wrote."""
    if case not in _REBUILT:
        try:
            _REBUILT[case] = (graphdata.load(str(OUT), case), None)
        except graphdata.GraphDataError as exc:
            error = student_error(case)
            _REBUILT[case] = (None, str(exc) + (f" (your code raised {error})" if error else ""))
    gm, problem = _REBUILT[case]
    assert gm is not None, f"{case}: {problem}"
    return gm


def compare_graph_outputs(case, rtol=1e-7, atol=1e-9):
    """The rebuilt graph, run here on the case's inputs, gives the original model's outputs."""
    gm = rebuilt(case)
    _, inputs = M.build(case, M.seed_from_env(SEEDS[case]))
    try:
        result = M.outputs_of(gm, inputs)
    except Exception as exc:  # noqa: BLE001  (a graph that does not run is the student's)
        raise AssertionError(f"{case}: the graph your pass produced does not run: {exc}") from None
    problems = []
    for name in expected_names(case):
        want = np.load(EXPECTED / name, allow_pickle=False)
        label = name.removeprefix(case + "__").removesuffix(".npy")
        got = result.get(label)
        if got is None:
            problems.append(f"no output {label}")
        elif got.shape != want.shape:
            problems.append(f"{label}: shape {got.shape}, expected {want.shape}")
        elif not np.allclose(got, want, rtol=rtol, atol=atol):
            problems.append(f"{label}: values differ (max abs error {np.nanmax(np.abs(got - want)):.3g})")
    assert not problems, f"{case}: " + "; ".join(problems)


def compare_graph_facts(case, keys, what):
    """Counts taken here on the rebuilt graph equal the reference's."""
    gm, want = rebuilt(case), expected_facts(case)
    for key in keys:
        got = FACTS[key](gm)
        assert got == want[key], f"{case}: {what[key]} is {got!r}, expected {want[key]!r}"
