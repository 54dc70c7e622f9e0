"""Hostile programs for the sandbox tests, in Python: `hostile.py MODE [ARG]`.

Same modes as hostile.c; each tries one attack and prints what happened."""
import os
import socket
import sys
import threading
import time

mode = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""


def fill(path):
    try:
        with open(path, "wb") as f:
            block = b"x" * 65536
            while True:
                f.write(block)
                f.flush()
    except OSError as e:
        print(f"write {path}: {e.strerror}", flush=True)
        sys.exit(4 if e.errno == 28 else 1)


if mode == "exit":
    sys.exit(int(arg))
elif mode == "echo":
    print(arg)
    print("err:" + arg, file=sys.stderr)
elif mode == "memory":
    hog = []
    for i in range(1024):
        hog.append(bytearray(1 << 20))
elif mode == "fork":
    while True:
        try:
            os.fork()
        except OSError:
            pass
elif mode == "threads":
    while True:
        try:
            threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
        except RuntimeError:
            pass
elif mode == "spin":
    while True:
        pass
elif mode == "sleep":
    time.sleep(100000)
elif mode == "daemon":
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.close(0); os.close(1); os.close(2)
            time.sleep(1.5)
            with open(arg, "w") as f:
                f.write("survived\n")
            time.sleep(100000)
        os._exit(0)
    os.wait()
elif mode == "flood":
    block = b"y" * 65536
    out = sys.stdout.buffer
    for _ in range(1 << 14):
        out.write(block)
elif mode == "fill":
    fill(arg)
elif mode == "connect":
    try:
        socket.create_connection(("127.0.0.1", int(arg)), timeout=2)
        print("connected")
    except OSError as e:
        print(f"connect: {e}")
        sys.exit(1)
elif mode == "read":
    try:
        with open(arg, "rb") as f:
            print(f"read {len(f.read(256))} bytes")
    except OSError as e:
        print(f"open: {e.strerror}")
        sys.exit(1)
elif mode == "write":
    try:
        with open(arg, "w") as f:
            f.write("owned\n")
        print("wrote")
    except OSError as e:
        print(f"open: {e.strerror}")
        sys.exit(1)
elif mode == "ptrace":
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    child = os.fork()
    if child == 0:
        time.sleep(1000)
    rc = libc.ptrace(16, child, None, None)  # PTRACE_ATTACH
    err = ctypes.get_errno()
    os.kill(child, 9)
    if rc == 0:
        print("attached")
        sys.exit(0)
    print(f"ptrace: {os.strerror(err)}")
    sys.exit(1)
elif mode == "killall":
    try:
        os.kill(-1, 9)
        print("kill(-1): 0")
    except OSError as e:
        print(f"kill(-1): {e}")
elif mode == "environ":
    if any(arg in v for v in os.environ.values()):
        print("found in environ")
        sys.exit(0)
    for pid in range(1, 64):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if arg.encode() in f.read():
                    print(f"found in /proc/{pid}/environ")
                    sys.exit(0)
        except OSError:
            pass
    print("not found")
    sys.exit(1)
elif mode == "fds":
    leaked = []
    for fd in range(3, 1024):
        try:
            os.fstat(fd)
            leaked.append(fd)
        except OSError:
            pass
    # Python itself opens nothing beyond stdio at start-up.
    print("open fds:", leaked)
    sys.exit(0 if leaked else 1)
elif mode == "unshare":
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER
        print("unshare: ok")
        sys.exit(0)
    print(f"unshare: {os.strerror(ctypes.get_errno())}")
    sys.exit(1)
else:
    print("unknown mode", mode, file=sys.stderr)
    sys.exit(2)
