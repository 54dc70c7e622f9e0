"""Grades one submission folder the way assignment.toml says, without the sandbox.

A development aid for the assignment's authors (the real grader is `grader`): it runs the
build, each test's driver and checker as plain processes in temp folders with the box's
environment, and prints points per test. Trusts the submission: use it on our own variants.

    /usr/bin/python3 hidden/tools/grade_local.py SUBMISSION_DIR [--skip-perf]
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ASSIGNMENT = os.path.dirname(os.path.dirname(HERE))


def stage(src, root, name):
    work = os.path.join(root, name)
    shutil.copytree(src, work, ignore=shutil.ignore_patterns("expected.toml", "meta.toml"))
    return work


def env_for(manifest, test, work, out):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1",
           "GRADER_OUT": out, "GRADER_EXPECTED": "/nonexistent",
           "GRADER_SEED": str(test.get("seed", 0)), "A2_WORK": work}
    env.update(manifest["runtime"].get("env", {}))
    return env


def build(manifest, work):
    r = subprocess.run(manifest["build"]["command"], cwd=work, capture_output=True, text=True)
    if r.returncode:
        print(f"  build failed: {r.stderr[-300:]}")


def junit_cases(path):
    if not os.path.isfile(path):
        return 0, 0
    suite = ET.parse(path).getroot()
    cases = suite.iter("testcase")
    total = passed = 0
    for case in cases:
        total += 1
        if not any(child.tag in ("failure", "error", "skipped") for child in case):
            passed += 1
    return passed, total


def pytest(files, cwd, env, report, pythonpath=None):
    env = dict(env)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
           f"--junitxml={report}", f"--rootdir={ASSIGNMENT}",
           f"--confcutdir={ASSIGNMENT}"]  # no conftest.py from above the assignment
    subprocess.run(cmd + [os.path.join(ASSIGNMENT, f) for f in files], cwd=cwd, env=env,
                   capture_output=True, timeout=300)
    return junit_cases(report)


def score(test, passed, total):
    expected = test.get("cases", total)
    if test.get("scoring", "proportional") == "all_or_nothing":
        return test["points"] if passed == expected and total == expected else 0.0
    return test["points"] * min(passed, expected) / expected if expected else 0.0


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, cwd, env):
    before = child_cpu()
    rc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=120).returncode
    return rc, child_cpu() - before


def perf(manifest, test, work, root):
    # Like the engine: the built student tree with the baseline folder laid over it.
    base = os.path.join(root, "baseline")
    shutil.copytree(work, base)
    shutil.copytree(os.path.join(ASSIGNMENT, test["baseline"]), base, dirs_exist_ok=True)
    lo, hi = test["iterations"]
    speedups = []
    for _ in range(test.get("pairs", 3)):
        times = {}
        for name, w in (("student", work), ("baseline", base)):
            os.makedirs(os.path.join(root, "perfout"), exist_ok=True)
            env = env_for(manifest, test, w, os.path.join(root, "perfout"))
            t = []
            for n in (lo, hi):
                cmd = [c.replace("{iterations}", str(n)).replace("/grader", ASSIGNMENT)
                       for c in test["command"]]
                rc, cpu = timed(cmd, w, env)
                if rc:
                    print(f"  perf: {name} run exited {rc}")
                    return 0.0, []
                t.append(cpu)
            times[name] = max(t[1] - t[0], 1e-6)
        speedups.append(times["baseline"] / times["student"])
    speedups.sort()
    median = speedups[len(speedups) // 2]
    for minimum, fraction in test["thresholds"]:
        if median >= minimum:
            return test["points"] * fraction, speedups
    return 0.0, speedups


def main():
    sub = os.path.abspath(sys.argv[1])
    skip_perf = "--skip-perf" in sys.argv
    with open(os.path.join(ASSIGNMENT, "assignment.toml"), "rb") as f:
        manifest = tomllib.load(f)
    total = 0.0
    with tempfile.TemporaryDirectory() as root:
        work = stage(sub, root, "work")
        build(manifest, work)
        for test in manifest["tests"]:
            out = os.path.join(root, "out_" + test["id"])
            os.mkdir(out)
            env = env_for(manifest, test, work, out)
            report = os.path.join(root, test["id"] + ".xml")
            note = ""
            if test["kind"] == "pytest":
                points = score(test, *pytest(test["files"], work, env, report, work))
            elif test["kind"] == "produce_check" and "measure_baseline" in test:
                print(f"  {test['id']:18s} skipped: graded on the sandbox's memory measurement")
                continue
            elif test["kind"] == "produce_check":
                wenv = dict(env, PYTHONPATH=work)
                subprocess.run(["/usr/bin/python3", os.path.join(ASSIGNMENT, test["produce"])],
                               cwd=work, env=wenv, capture_output=True, timeout=300)
                passed, cases = pytest(test["check_files"], ASSIGNMENT, env, report)
                points = score(test, passed, cases)
                note = f"{passed}/{cases}"
            elif test["kind"] == "perf":
                if skip_perf:
                    continue
                points, speedups = perf(manifest, test, work, root)
                note = "speedups " + " ".join(f"{s:.2f}" for s in speedups)
            else:
                continue
            total += points
            print(f"  {test['id']:18s} {points:6.2f} / {test['points']:5.1f}  {note}")
    print(f"TOTAL {total:.2f}")


if __name__ == "__main__":
    main()
