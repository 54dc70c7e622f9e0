# grader-zygote: grader-sandbox's warm start (sandbox/README.md, "Warm start").
#
# Started by `grader-sandbox --zygote SOCKET --preload MODULES`, as root, with a clean
# environment. It imports the preload modules once, and only them: no student, test or
# checker code is ever loaded here. For each supervisor that connects it forks a runner, which
#   1. greets the supervisor (the interpreter and the preload list),
#   2. takes the run (the policy and the box's descriptors) once the box is built,
#   3. joins the box's namespaces and forks the program into its pid namespace,
#   4. waits for the program and reports its end, as the box's init does for a cold program.
# The program (the runner's child) takes the cold path's own steps into the box (the cgroup,
# limits, uid 65534, no capabilities, every other descriptor closed, no_new_privs, seccomp) in
# libgrader-warm.so, then becomes the fresh interpreter a cold run would be: environment,
# sys.argv, sys.path, stdio, fresh random streams, and runs the script or module.
import argparse
import builtins
import atexit
import ctypes
import gc
import importlib
import importlib.machinery
import io
import json
import os
import random
import runpy
import select
import signal
import site
import socket
import sys
import types

PROTOCOL = 1
MAX_REQUEST = 1 << 20
MAX_FDS = 16


def parse_args():
    parser = argparse.ArgumentParser(prog="grader-zygote")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--lib", required=True)
    parser.add_argument("--preload", default="")
    return parser.parse_args()


def listen(path):
    """A socket only root can reach; renamed into place once it listens, so a supervisor that
    finds the path can connect."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    partial = path + ".partial"
    if os.path.lexists(partial):
        os.unlink(partial)
    old = os.umask(0o077)
    server.bind(partial)
    os.umask(old)
    server.listen(128)
    os.rename(partial, path)
    return server


def serve(args):
    """Returns only in a program: the run it is to become."""
    lib = ctypes.CDLL(args.lib)
    for name in (lib.grader_warm_enter, lib.grader_warm_become, lib.grader_warm_report):
        name.restype = ctypes.c_int
    preload = [m for m in args.preload.split(",") if m]
    for module in preload:
        importlib.import_module(module)
    base = {"path": list(sys.path), "torch": "torch" in sys.modules}
    hello = json.dumps({"protocol": PROTOCOL, "python": sys.executable,
                        "preload": preload}).encode()
    server = listen(args.socket)
    parent = os.getppid()
    # One runner is always forked ahead, waiting for the next supervisor: a fork of a process
    # that imported torch takes about 8 ms here, now off the run's path. It says when it has
    # started its program (or given up), and the zygote forks the next one then, not while
    # the box is being built (on two cores the fork slowed the box's set-up by 20 ms).
    taken_r, taken_w = os.pipe()
    spare = None
    while True:
        if spare is None:
            # Frozen objects are left alone by the collector: a run's collections then do not
            # write to (copy) the zygote's pages (a full collection in a fork: 233 ms -> 24 ms).
            gc.freeze()
            spare = os.fork()
            if spare == 0:
                os.close(taken_r)
                return spare_runner(server, taken_w, hello, lib, base)
        ready, _, _ = select.select([taken_r], [], [], 1.0)
        if spare in reap():
            spare = None  # it ended without a word (killed, say)
        if os.getppid() != parent:
            # Whoever started us is gone (killed, say): nothing stays behind.
            if spare:
                os.kill(spare, signal.SIGKILL)
            leave(args.socket)
        if ready:
            os.read(taken_r, 64)
            spare = None


def spare_runner(server, taken, hello, lib, base):
    """Waits for a supervisor (leaving if the zygote is gone), then serves it."""
    zygote = os.getppid()
    server.setblocking(False)
    while True:
        ready, _, _ = select.select([server], [], [], 1.0)
        if os.getppid() != zygote:
            os._exit(0)
        if not ready:
            continue
        try:
            conn, _ = server.accept()
        except (BlockingIOError, InterruptedError):
            continue
        break
    server.close()
    conn.setblocking(True)
    return runner(conn, hello, lib, base, taken)


def leave(path):
    """Removes the socket (and the log beside it, NAME.log for NAME.sock) and exits; the runs
    in progress finish with their runners."""
    stem = path[:-len(".sock")] if path.endswith(".sock") else None
    for name in [path] + ([stem + ".log"] if stem else []):
        try:
            os.unlink(name)
        except OSError:
            pass
    try:
        os.rmdir(os.path.dirname(path))  # the pool's folder, once its last zygote is gone
    except OSError:
        pass
    os._exit(0)


def reap():
    """The runners that ended, reaped."""
    ended = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append(pid)


def runner(conn, hello, lib, base, taken):
    """The zygote's fork for one run: joins the box, forks the program, reports its end."""
    def release():
        os.write(taken, b"x")  # the zygote forks the next spare runner
        os.close(taken)

    def leave_early(status):
        release()
        os._exit(status)

    try:
        conn.sendall(hello)
        conn.settimeout(120)
        data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, MAX_FDS)
    except OSError:
        leave_early(1)
    if not data:
        leave_early(0)
    request = json.loads(data)
    raw = json.dumps(request).encode()
    c_fds = (ctypes.c_int * len(fds))(*fds)
    if lib.grader_warm_enter(raw, c_fds, len(fds)) != 0:
        leave_early(1)
    pid = os.fork()
    if pid == 0:
        conn.detach()  # closed below with every other descriptor; no object may own it
        lib.grader_warm_become(raw, c_fds, len(fds))
        return {"policy": request["policy"], "base": base}
    release()
    lib.grader_warm_report(pid, raw, c_fds, len(fds))
    os._exit(1)


def become(run):
    """The rest of a fresh interpreter's start, in the box: what a cold run would see."""
    policy, base = run["policy"], run["base"]
    os.environ.clear()
    for name, value in policy.get("env", {}).items():
        os.environ[name] = value
    # As a cold interpreter does in the C locale (PEP 538): the zygote's own locale is C.UTF-8.
    if not any(k in os.environ for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        os.environ["LC_CTYPE"] = "C.UTF-8"
    argv = policy["argv"]
    # -I, as a cold interpreter takes it: PYTHON* variables ignored (-E), no user site (-s),
    # no script folder or cwd first on the path (-P). sys.flags.isolated stays the zygote's 0.
    isolated = argv[1] == "-I"
    if isolated:
        argv = argv[:1] + argv[2:]
    sys.dont_write_bytecode = not isolated and bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    extra = [] if isolated else [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
    if argv[1] == "-m":
        first, target, args = os.getcwd(), argv[2], argv[3:]
    elif argv[1] == "-c":
        first, target, args = "", argv[2], argv[3:]
    else:
        first, target, args = os.path.dirname(os.path.abspath(argv[1])), argv[1], argv[2:]
    start_path(base["path"][1:], extra, isolated)
    # Fresh streams, as a fresh interpreter has: random, numpy and torch from the kernel's
    # entropy (Debian's torch 1.13 seeds itself so at import too).
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if base["torch"]:
        sys.modules["torch"].default_generator.seed()  # torch.seed() also seeds CUDA lazily
    sys.argv = ["-c" if argv[1] == "-c" else target] + args
    # Last, as a cold interpreter: the script's folder (or cwd) goes first once site is done.
    if not isolated:
        sys.path.insert(0, first)
    return argv[1], target


def start_path(interpreter_path, extra, isolated=False):
    """sys.path and the site module's per-run work, as a cold interpreter's start does them:
    PYTHONPATH, the standard library, the user's site-packages (this run's HOME), the system's
    site-packages; then sitecustomize and usercustomize, found along that path (a
    submission's sitecustomize.py on PYTHONPATH runs, exactly as it would cold)."""
    packages = [p for p in interpreter_path if p.endswith("-packages")]
    stdlib = [p for p in interpreter_path if not p.endswith("-packages")]
    sys.path[:] = extra + stdlib
    # site.check_enableusersite() without the zygote's own -s: what a cold start decides.
    site.ENABLE_USER_SITE = (not isolated and os.getuid() == os.geteuid()
                             and os.getgid() == os.getegid())
    site.USER_BASE = site.USER_SITE = None
    user_site = site.getusersitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(user_site):
        site.addsitedir(user_site)
    sys.path.extend(packages)
    # The interpreter's folders are the same files in the box (read-only binds of the host's):
    # the zygote's cached listings of them stay valid, and the run's own folders are new.
    # The system's sitecustomize ran in the zygote already; only one found earlier on this
    # run's path (PYTHONPATH, the user site) is the run's to import, as a cold start would.
    own = extra + ([user_site] if site.ENABLE_USER_SITE else [])
    for name, execute in (("sitecustomize", site.execsitecustomize),
                          ("usercustomize", site.execusercustomize)):
        if name == "usercustomize" and not site.ENABLE_USER_SITE:
            continue
        if importlib.machinery.PathFinder.find_spec(name, own) is not None:
            sys.modules.pop(name, None)
            execute()


def exit_status(exit):
    """What the interpreter makes of SystemExit's argument."""
    code = exit.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def run_code(code):
    """`python -c CODE`: the code as the __main__ module."""
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    exec(compile(code, "<string>", "exec"), main.__dict__)


def run(how, target, _exit=os._exit):
    """Runs the program; then does what the interpreter does at exit (waits for its threads,
    runs its exit handlers, flushes its streams) and leaves without tearing the interpreter
    down: freeing every preloaded object would copy the zygote's pages, about 1 s of CPU time
    per run for torch (measured), which a cold run spends too and a warm one need not."""
    status = 0
    try:
        if how == "-m":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif how == "-c":
            run_code(target)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        status = exit_status(e)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    for step in (lambda: sys.modules["threading"]._shutdown() if "threading" in sys.modules
                 else None, atexit._run_exitfuncs, sys.stdout.flush, sys.stderr.flush):
        try:
            step()
        except SystemExit as e:
            status = exit_status(e)
        except BaseException:
            status = status or 120
    _exit(status)


if __name__ == "__main__":
    program = serve(parse_args())
    how, target = become(program)
    del program
    run(how, target)
