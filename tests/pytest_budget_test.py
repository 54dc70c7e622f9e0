#!/usr/bin/python3
"""The pytest budget plugin (grader/engine/grader_pytest_budget.py) under the box's limits,
simulated: `ulimit -t` for the CPU limit, `timeout -s KILL` for the wall limit. Each case
runs pytest as the grader does and counts the JUnit file as the grader counts it
(count_junit_cases: a testcase without failure, error or skipped passed)."""
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
import xml.etree.ElementTree as ET

PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "grader", "engine")
PYTHON = "/usr/bin/python3"

BUSY = """
import time

import pytest


def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
"""


def run(tests, case, cpu, wall, extra=()):
    """(passed, reported, output) of one pytest run of `tests` within cpu and wall seconds,
    or (None, None, output) when the limits killed it before a report was written."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "test_budget_case.py"), "w") as f:
            f.write(BUSY + textwrap.dedent(tests))
        report = os.path.join(d, "junit.xml")
        command = [PYTHON, "-m", "pytest", f"--timeout={case}", "--timeout-method=signal",
                   "--tb=native", "-p", "grader_pytest_budget", "-q", "-p", "no:cacheprovider",
                   f"--junitxml={report}", f"--rootdir={d}", *extra,
                   os.path.join(d, "test_budget_case.py")]
        shell = f"ulimit -t {cpu}; exec timeout -s KILL {wall} " + " ".join(
            "'" + c + "'" for c in command)
        env = dict(os.environ, GRADER_PYTEST_BUDGET=f"{cpu},{wall}", PYTHONPATH=PLUGIN_DIR)
        out = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True,
                             timeout=120)
        text = out.stdout + out.stderr
        if not os.path.exists(report):
            return None, None, text
        passed = reported = 0
        for tc in ET.parse(report).getroot().iter("testcase"):
            reported += 1
            if not any(tc.find(k) is not None for k in ("failure", "error", "skipped")):
                passed += 1
        return passed, reported, text


class Budget(unittest.TestCase):
    def test_loops_past_the_limit_keep_the_passes_and_count_every_case(self):
        tests = "def test_pass():\n    assert True\n"
        for i in range(6):
            tests += f"\n\ndef test_loop_{i}():\n    busy(100)\n"
        tests += "\n\ndef test_after():\n    assert True\n"
        passed, reported, text = run(tests, case=1.5, cpu=4, wall=30)
        self.assertEqual((passed, reported), (1, 8), text)
        self.assertIn("grader stopped pytest with", text)

    def test_a_threaded_loop_is_stopped_by_cpu_time_not_wall_time(self):
        # Two threads spend CPU twice as fast as wall time: a wall alarm set to the CPU time
        # left comes after the CPU limit's kill.
        tests = """
            import hashlib
            import threading


            def test_pass():
                assert True


            def test_threads():
                stop = threading.Event()

                def spin():  # hashlib releases the GIL: both threads spend CPU at once
                    blob = bytes(1 << 20)
                    while not stop.is_set():
                        hashlib.sha256(blob).digest()

                workers = [threading.Thread(target=spin) for _ in range(2)]
                for w in workers:
                    w.start()
                try:
                    while True:
                        time.sleep(0.01)
                finally:
                    stop.set()


            def test_after():
                assert True
        """
        passed, reported, text = run(tests, case=30, cpu=4, wall=60)
        # The report is written and test_threads failed; test_after runs where the timer's
        # stop left CPU to spare (on a loaded machine), and is reported failed where not.
        self.assertEqual(reported, 3, text)
        self.assertIn(passed, (1, 2), text)
        self.assertIn("the grader stopped this case", text)

    def test_a_tighter_limit_of_the_case_is_never_loosened(self):
        tests = """
            def test_first():
                busy(1.5)


            @pytest.mark.timeout(0.3)
            def test_must_be_fast():
                time.sleep(0.8)


            def test_last():
                assert True
        """
        # After test_first about 1.6 s of CPU is left: the run is "under pressure" (less than
        # the default case limit left), and a limit of the time left would let the sleep pass.
        # (case 6 s: test_first's 1.5 s of CPU fits its wall limit on a loaded machine too.)
        passed, reported, text = run(tests, case=6, cpu=4, wall=30)
        self.assertEqual((passed, reported), (2, 3), text)

    def test_a_longer_limit_of_the_case_is_cut_to_what_is_left(self):
        tests = """
            def test_pass():
                assert True


            @pytest.mark.timeout(60)
            def test_loop():
                busy(100)
        """
        passed, reported, text = run(tests, case=1, cpu=3, wall=30)
        self.assertEqual((passed, reported), (1, 2), text)

    def test_an_honest_suite_near_its_limits_runs_to_its_end(self):
        tests = ""
        for i in range(6):
            tests += f"\n\ndef test_slow_{i}():\n    busy(0.3)\n"
        # 1.8 s of the 3.5 s a 4 s run has after the margin; each case may take all of it.
        passed, reported, text = run(tests, case=4, cpu=4, wall=30)
        self.assertEqual((passed, reported), (6, 6), text)
        self.assertNotIn("grader stopped pytest", text)

    def test_without_a_budget_the_plugin_does_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "test_plain.py"), "w") as f:
                f.write("def test_one():\n    assert True\n")
            env = dict(os.environ, PYTHONPATH=PLUGIN_DIR)
            env.pop("GRADER_PYTEST_BUDGET", None)
            out = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "grader_pytest_budget", "-p",
                                  "no:cacheprovider", os.path.join(d, "test_plain.py")],
                                 env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
