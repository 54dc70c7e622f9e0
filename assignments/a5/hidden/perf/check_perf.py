"""Perf checker (no student code): the timed student run produced the baseline's tokens."""
import json
import os

OUT = os.environ.get("GRADER_OUT", "/out")
BASELINE = os.environ.get("GRADER_BASELINE", "/baseline")


def load(folder):
    with open(os.path.join(folder, "tokens.json")) as f:
        return json.load(f)


def test_tokens_equal_baseline():
    got, want = load(OUT), load(BASELINE)
    assert got["n"] == want["n"], f"the timed run generated {got['n']} tokens, the baseline {want['n']}"
    assert got["tokens"] == want["tokens"], f"tokens {got['tokens'][:8]}..., expected {want['tokens'][:8]}..."
