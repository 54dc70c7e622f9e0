#!/usr/bin/python3
"""grader-sandbox and grader on a real cgroup v2 hierarchy: run by tests/vm/run-vm, inside its VM.

  cgroup_v2_test.py BUILD_DIR [--time-scale X] [--variant NAME] [--torch-variant NAME]
                    [--no-grading]

As root, and as an unprivileged user given a delegated cgroup the way systemd's Delegate=yes
gives one (the folder and its cgroup.procs, cgroup.subtree_control and cgroup.threads chowned),
hostile programs (tests/hostile/hostile.c) meet the limits, each run's verdict and `enforced`
are asserted, a fresh cgroup is made per run and none is left behind, and the delegating
parent's cgroup.subtree_control is left as found. Then real gradings, each of a solution
(100) and a planted variant (its expected.toml score), with time limits scaled for TCG: of
tests/fixtures/mini (no torch) and of assignments/a3 (torch, warm-started), each score.json
saying host.cgroup = "v2" and the time scale. Prints one line per check; exits 1 when any failed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CG = "/sys/fs/cgroup"
USER = 61000  # the unprivileged user; no passwd entry needed
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(ok, what, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f"  [{detail}]" if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cgroup_dirs():
    return sorted(root for root, _, _ in os.walk(CG))


def own_cgroup():
    return CG + read("/proc/self/cgroup").strip().split("::", 1)[1].rstrip("/")


class Sandbox:
    def __init__(self, build):
        self.bin = os.path.join(build, "bin", "grader-sandbox")
        self.hostile = os.path.join(build, "hostile")

    def command(self, folder, options, mode, arg=""):
        return [self.bin, "--result", f"{folder}/result.json", "--stdout", f"{folder}/out",
                "--ro-bind", f"{self.hostile}:/hostile", *options, "--",
                "/hostile/hostile", mode, arg]

    def run(self, options, mode, arg=""):
        folder = tempfile.mkdtemp(prefix="vm-run-")
        p = subprocess.run(self.command(folder, options, mode, arg), stderr=subprocess.PIPE,
                           text=True)
        text = read(f"{folder}/result.json")
        result = json.loads(text) if text else {}
        result["_out"] = read(f"{folder}/out")
        result["_stderr"] = p.stderr
        result["_status"] = p.returncode
        shutil.rmtree(folder)
        return result


def enforced_by_v2(r):
    e = r.get("enforced", {})
    return (e.get("memory"), e.get("pids"), e.get("cpu_time")) == (
        "cgroup v2", "cgroup v2", "cgroup v2 + rlimit")


def battery(sb, who, parents):
    """The hostile programs against cgroup v2 limits, from wherever this process is."""
    warm = sb.run([], "echo", "hi")  # on a delegated service cgroup, the first run moves us
    check(warm.get("verdict") == "ok" and warm["_out"] == "hi\n", f"{who}: a normal run is ok",
          json.dumps(warm)[:600])
    check(enforced_by_v2(warm), f"{who}: memory, pids and CPU time by cgroup v2",
          json.dumps(warm.get("enforced")))
    check(warm.get("warnings") == [], f"{who}: no warnings", json.dumps(warm.get("warnings")))
    before = cgroup_dirs()
    controls = {p: read(f"{p}/cgroup.subtree_control") for p in parents}

    r = sb.run(["--memory", "96M", "--cpu-time", "30", "--wall-time", "120"], "memory")
    peak = r.get("peak_memory_bytes", 0)
    check(r.get("verdict") == "memory_limit" and enforced_by_v2(r),
          f"{who}: memory bomb -> memory_limit (memory.events)", json.dumps(r)[:600])
    check(64 << 20 < peak <= 96 << 20, f"{who}: peak memory from memory.peak, {peak >> 20} MiB",
          str(peak))

    for mode, pids in (("fork", "32"), ("threads", "48")):
        r = sb.run(["--pids", pids, "--cpu-time", "1", "--wall-time", "30"], mode)
        check(r.get("verdict") == "process_limit" and enforced_by_v2(r),
              f"{who}: {mode} bomb -> process_limit (pids.max, pids.events)", json.dumps(r)[:600])

    r = sb.run(["--cpu-time", "1", "--wall-time", "120"], "spin")
    check(r.get("verdict") == "time_limit" and r.get("limit_reason") == "cpu",
          f"{who}: CPU spin -> time_limit cpu", json.dumps(r)[:600])
    check(r.get("cpu_seconds", 0) >= 0.9, f"{who}: CPU time from cpu.stat, "
          f"{r.get('cpu_seconds', 0):.2f} s", json.dumps(r)[:300])

    out = tempfile.mkdtemp(prefix="vm-daemon-")
    os.chmod(out, 0o777)
    r = sb.run(["--bind", f"{out}:/out", "--wall-time", "60"], "daemon", "/out/marker")
    time.sleep(2.5)  # the daemon writes its marker 1.5 s after it starts, if it still lives
    survivors = [p for p in os.listdir("/proc") if p.isdigit() and
                 "/out/marker" in read(f"/proc/{p}/cmdline").replace("\0", " ")]
    check(r.get("verdict") == "ok" and not os.path.exists(f"{out}/marker") and not survivors,
          f"{who}: a daemon does not outlive its run (cgroup.kill)", json.dumps(r)[:400])
    shutil.rmtree(out, ignore_errors=True)

    policy = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    policy.write('{"shm_size": "8M"}')
    policy.close()
    os.chmod(policy.name, 0o644)
    r = sb.run(["--policy", policy.name], "fill", "/dev/shm/fill")
    os.unlink(policy.name)
    check(r.get("verdict") == "nonzero_exit" and r.get("exit_code") == 4,
          f"{who}: /dev/shm fill stops at its cap (ENOSPC)", json.dumps(r)[:400])

    fresh_cgroup(sb, who)
    check(cgroup_dirs() == before, f"{who}: no cgroup left behind ({len(before)} folders)",
          f"before {before}, after {cgroup_dirs()}")
    for p, text in controls.items():
        check(read(f"{p}/cgroup.subtree_control") == text,
              f"{who}: {p}/cgroup.subtree_control left as found ({text.strip()})",
              read(f"{p}/cgroup.subtree_control"))


def fresh_cgroup(sb, who):
    """While a run sleeps: its own new cgroup, with its limits, holding the program only."""
    folder = tempfile.mkdtemp(prefix="vm-run-")
    p = subprocess.Popen(sb.command(folder, ["--memory", "80M", "--pids", "20", "--wall-time",
                                             "5"], "sleep"), stderr=subprocess.DEVNULL)
    prefix = f"grader-sandbox-{p.pid}-"
    found, programs = [], []
    deadline = time.time() + 60
    # Until the program has exec'd (before that it shows grader-sandbox's command line, as
    # init would, were init ever in the cgroup).
    while time.time() < deadline and p.poll() is None:
        found = [d for d in cgroup_dirs() if os.path.basename(d).startswith(prefix)]
        procs = read(f"{found[0]}/cgroup.procs").split() if len(found) == 1 else []
        programs = [read(f"/proc/{pid}/cmdline").split("\0")[:2] for pid in procs]
        if programs == [["/hostile/hostile", "sleep"]]:
            break
        time.sleep(0.05)
    ok = len(found) == 1 and programs == [["/hostile/hostile", "sleep"]]
    detail = f"found {found}, programs {programs}"
    if ok:
        d = found[0]
        limits = (read(f"{d}/memory.max").strip(), read(f"{d}/pids.max").strip(),
                  read(f"{d}/memory.swap.max").strip())
        ok = limits == (str(80 << 20), "20", "0")
        detail = f"{d}: {limits}"
    p.wait()
    shutil.rmtree(folder)
    check(ok, f"{who}: a fresh cgroup per run, its limits set, the program alone in it", detail)
    check(not any(os.path.basename(d).startswith(prefix) for d in cgroup_dirs()),
          f"{who}: the run's cgroup is removed after it")


def delegate(path):
    """What systemd's Delegate=yes does: the folder and three of its files to the user."""
    os.mkdir(path)
    for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
        os.chown(os.path.join(path, name), USER, USER)


def as_user_in(cgroup, role, build):
    """This script again, as the unprivileged user, started inside `cgroup`."""
    script = (f'echo $$ > {cgroup}/cgroup.procs && exec setpriv --reuid={USER} --regid={USER} '
              f'--clear-groups /usr/bin/python3 {os.path.abspath(__file__)} {build} --as {role}')
    p = subprocess.run(["sh", "-c", script])
    check(p.returncode == 0, f"user ({role}): its checks passed")


def inner(role, build):
    """The unprivileged side: runs as USER, already inside the cgroup `role` names."""
    sb = Sandbox(build)
    if role == "service":
        # A system service with Delegate=yes and User=: our processes sit in the delegated
        # cgroup itself, whose parent is not ours.
        d = own_cgroup()
        battery(sb, "user, delegated service cgroup", [CG])
        check(own_cgroup() == f"{d}/grader-processes",
              "user, delegated service cgroup: our processes moved to a leaf", own_cgroup())
    elif role == "scope":
        # systemd --user with `systemd-run --user --scope -p Delegate=yes`: the user's manager
        # owns the subtree and has put us in a scope below it, with the controllers handed on.
        top = own_cgroup()
        os.mkdir(f"{top}/run.scope")
        with open(f"{top}/run.scope/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        with open(f"{top}/cgroup.subtree_control", "w") as f:
            f.write("+memory +pids")
        battery(sb, "user, scope in a delegated subtree", [CG, top])
    elif role == "none":
        # Nothing delegated: per-process rlimits, and a warning that says so.
        before = cgroup_dirs()
        r = sb.run(["--memory", "96M", "--cpu-time", "30", "--wall-time", "120"], "memory")
        e = r.get("enforced", {})
        check(r.get("verdict") not in ("ok", "sandbox_error", None) and
              e.get("memory") == "rlimit (per process, RLIMIT_DATA)" and
              e.get("pids") == "rlimit (RLIMIT_NPROC in the box's user namespace)" and
              e.get("cpu_time") == "rlimit (per process)",
              "user, nothing delegated: memory bomb stopped by rlimits, enforced says so",
              json.dumps(r)[:600])
        warned = " ".join(r.get("warnings", []))
        check("no cgroup" in warned and "Delegate=yes" in warned,
              "user, nothing delegated: one warning naming the fix", warned)
        check(cgroup_dirs() == before, "user, nothing delegated: no cgroup made")
    sys.exit(1 if failures else 0)


def grading(build, scale, name, folder, variant):
    """Real gradings: the solution scores 100, a planted variant exactly its expected.toml."""
    grader = os.path.join(build, "bin", "grader")
    staged = tempfile.mkdtemp(prefix="vm-variant-")
    opened = subprocess.run([grader, "-q", "variant", "open", folder, variant, f"{staged}/{variant}"],
                            capture_output=True, text=True)
    check(opened.returncode == 0, f"grader variant open {name} {variant}", opened.stderr)
    toml = read(f"{folder}/variants/expected.toml")
    expected = float(toml.split(f"[{variant}]")[1].split("score =")[1].split()[0])
    before = cgroup_dirs()
    # Both at once: the VM has two CPUs, and a grading runs its boxes one after another.
    runs = []
    for label, submission, want in (("solution", f"{folder}/solution", 100.0),
                                    (f"variant {variant}", f"{staged}/{variant}", expected)):
        out = tempfile.mkdtemp(prefix="vm-grade-")
        log = tempfile.TemporaryFile("w+")
        p = subprocess.Popen([grader, "grade", folder, submission, "--out", out, "--time-scale",
                              f"{scale:g}"], stdout=log, stderr=subprocess.STDOUT, text=True)
        runs.append((label, want, out, p, log))
    start, ended = time.time(), {}
    while len(ended) < len(runs):
        for label, _, _, p, _ in runs:
            if label not in ended and p.poll() is not None:
                ended[label] = time.time() - start
        time.sleep(0.5)
    for label, want, out, p, log in runs:
        log.seek(0)
        output = log.read()
        seconds = ended[label]
        score = json.loads(read(f"{out}/score.json") or "{}")
        host = score.get("host", {})
        got = score.get("totals", {}).get("final")
        tests = [(t["id"], t["status"], t["verdict"], t.get("cpu_seconds"))
                 for t in score.get("tests", [])]
        check(score.get("status") == "graded" and got == want,
              f"grading {name} {label}: {got} points, as expected {want} ({seconds:.0f} s)",
              f"{output} tests {tests}")
        check(host.get("cgroup") == "v2" and host.get("time_scale") == scale and
              host.get("enforced", {}).get("memory") == "cgroup v2",
              f"grading {name} {label}: score.json host.cgroup v2, host.time_scale {scale:g}",
              json.dumps(host))
        # As root the fixture's Python runs are forks of a zygote (warm start): on v2 the
        # program joins its run's cgroup through cgroup.procs, not by clone3.
        start = host.get("start", {})
        check(start.get("warm_runs", 0) > 0 and start.get("cold_note") is None,
              f"grading {name} {label}: {start.get('warm_runs')} runs started warm on cgroup v2",
              json.dumps(start))
        check(f"time limits scaled by {scale:g}" in output,
              f"grading {name} {label}: the time scale is announced", output[-300:])
        shutil.rmtree(out)
    shutil.rmtree(staged)
    check(cgroup_dirs() == before, "gradings: no cgroup left behind")


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("build")
    args.add_argument("--as", dest="role", help=argparse.SUPPRESS)  # the unprivileged side
    # TCG runs Python about 13x slower than this 2-core host (a loop, measured); without
    # steal time the guest also counts the host's load as CPU time. The solution's slowest
    # box (pytest) measured 50 s of CPU here, against 10 s unscaled.
    args.add_argument("--time-scale", type=float, default=20.0)
    # forge_exit fails fast everywhere (the cheapest exact score); `hostile` spends its
    # limits (fork and memory bombs, an endless loop, an output flood) and takes minutes.
    args.add_argument("--variant", default="forge_exit")
    args.add_argument("--torch-variant", default="hostile")
    args.add_argument("--no-grading", action="store_true")
    a = args.parse_args()
    build = os.path.abspath(a.build)
    if a.role:
        inner(a.role, build)
    scale = a.time_scale
    if not check(read(f"{CG}/cgroup.controllers") != "" and os.getuid() == 0,
                 "root on a cgroup v2 host", read("/proc/mounts")):
        sys.exit(1)
    start = time.time()
    sb = Sandbox(build)
    battery(sb, "root", [CG])

    # Root in a cgroup that holds processes: the run's cgroup goes beside it.
    os.mkdir(f"{CG}/busy")
    with open(f"{CG}/busy/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
    r = sb.run(["--memory", "96M", "--cpu-time", "30", "--wall-time", "120"], "memory")
    check(r.get("verdict") == "memory_limit" and enforced_by_v2(r),
          "root in a busy cgroup: memory bomb -> memory_limit, by cgroup v2", json.dumps(r)[:600])
    fresh_cgroup(sb, "root in a busy cgroup")
    with open(f"{CG}/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
    os.rmdir(f"{CG}/busy")

    delegate(f"{CG}/service")
    as_user_in(f"{CG}/service", "service", build)
    delegate(f"{CG}/user")
    as_user_in(f"{CG}/user", "scope", build)
    os.mkdir(f"{CG}/plain")
    as_user_in(f"{CG}/plain", "none", build)
    print(f"sandbox checks took {time.time() - start:.0f} s", flush=True)

    if not a.no_grading:
        grading(build, scale, "mini", os.path.join(SOURCE, "tests", "fixtures", "mini"), a.variant)
        # A torch assignment: a3's nine boxes are forks of a zygote that imported torch once
        # (a cold `import torch` takes 11-17 s under TCG), and its hostile variant tries to
        # forge its outputs and scores.
        grading(build, scale, "a3", os.path.join(SOURCE, "assignments", "a3"), a.torch_variant)
    print(f"{len(failures)} failed" if failures else "all passed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
