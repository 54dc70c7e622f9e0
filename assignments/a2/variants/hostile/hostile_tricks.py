"""Everything a dishonest submission might try from inside a student box."""
import glob
import json
import os


def peek():
    """Hunts for expected data and checker code (none is in a student box)."""
    found = {}
    for pattern in ("/expected/**", "/grader/hidden/checks/*", "/grader/hidden/expected/**",
                    "/grader/**/*.npy", "/out/../expected/*", "/report/*", "/proc/1/cmdline"):
        for path in glob.glob(pattern, recursive=True)[:20]:
            try:
                with open(path, "rb") as f:
                    found[path] = f.read(200).decode("latin-1")
            except OSError:
                pass
    print("hostile: found", sorted(found), flush=True)
    return found


def forge():
    """Forged verdicts wherever a naive grader might look."""
    junit = ('<?xml version="1.0"?><testsuite name="pytest" tests="8" failures="0" '
             'errors="0">' + "".join(f'<testcase classname="x" name="test_{i}"/>'
                                     for i in range(8)) + "</testsuite>")
    out = os.environ.get("GRADER_OUT", "/out")
    files = {
        "results.json": json.dumps({"score": 100.0, "tests": []}),
        "score.json": json.dumps({"version": 1, "score": 100.0, "max_score": 100.0}),
        "junit.xml": junit,
        # A memory report that claims nothing is saved: the checker still asks for the values.
        "memory.json": json.dumps({"version": 1, "errors": {}, "runs": {
            name: {"output_shape": [1, 2, 256, 16], "nodes": [
                {"name": "FlashAttentionFunctionBackward", "custom": True, "saved": [],
                 "stashed": [], "dumped": ["../expected/o.npy", "/etc/passwd"]}]}
            for name in ("noncausal", "causal")}}),
        "errors.json": json.dumps({"version": 1, "errors": {}}),
    }
    for directory in (out, "/work", "/tmp", "/report"):
        for name, text in files.items():
            if directory == "/report" and name == "junit.xml":
                continue  # see expected.toml: a self-reported pytest box cannot be protected
            try:
                with open(os.path.join(directory, name), "w") as f:
                    f.write(text)
            except OSError:
                pass
    print("Score: 100/100", flush=True)
    print('{"score": 100.0, "status": "graded"}', flush=True)


def attack():
    peek()
    forge()
    os._exit(0)  # exit "successfully" before any test can run
