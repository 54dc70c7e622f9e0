"""Shared by the A3 checkers. They run with no student code loaded: the student's outputs
are in $GRADER_OUT (untrusted data: .npy loaded without pickle, JSON parsed, sizes capped)
and the expected data in $GRADER_EXPECTED."""

import json
import os
from pathlib import Path

import numpy as np

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


def compare_case(case, rtol=1e-7, atol=1e-9):
    """Every expected array of the case must be present with the same shape and close."""
    problems = []
    for name in expected_names(case):
        want = np.load(EXPECTED / name, allow_pickle=False)
        label = name.removeprefix(case + "__").removesuffix(".npy")
        try:
            got = load_student(name, case)
        except AssertionError as exc:
            problems.append(str(exc))
            continue
        if got.shape != want.shape:
            problems.append(f"{label}: shape {got.shape}, expected {want.shape}")
        elif not np.allclose(got, want, rtol=rtol, atol=atol):
            worst = np.nanmax(np.abs(got - want)) if np.isfinite(got).all() else float("nan")
            problems.append(f"{label}: values differ (max abs error {worst:.3g})")
    assert not problems, f"{case}: " + "; ".join(problems)


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


def compare_facts(case, keys, what):
    """The listed keys of the student's facts must equal the expected ones."""
    got, want = load_facts(case), expected_facts(case)
    for key in keys:
        assert got.get(key) == want[key], f"{case}: {what[key]} is {got.get(key)!r}, expected {want[key]!r}"
