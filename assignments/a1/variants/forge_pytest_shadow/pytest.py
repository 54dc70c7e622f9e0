# Shadowing module: `python3 -m pytest` in the public test's box (cwd /work, PYTHONPATH=/work)
# runs this file instead of pytest. It writes a JUnit report where every public case passed.
# A pytest test runs beside student code, so its verdict is self_reported by design: this
# variant documents that the forgery works there, and only there (hidden tests are produce_check
# runs whose checkers hold no student file).
import sys

names = [f"test_{i}" for i in range(10)]
cases = "".join(f'<testcase classname="test_autodiff" name="{n}" time="0"/>' for n in names)
report = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--junitxml=")), None)
if report:
    with open(report, "w") as f:
        f.write(f'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="{len(names)}" '
                f'failures="0" errors="0">{cases}</testsuite></testsuites>')
print(f"{len(names)} passed")
