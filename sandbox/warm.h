// Warm start: a zygote (a Python process that imported the run's heavy modules once, with no
// student or test code ever loaded) forks each run's program into a box the supervisor built.
// The supervisor side lives here; the zygote is grader-zygote.py, and the steps its forks take
// into the box are the C functions of libgrader-warm.so (warm_lib.cc), the same steps a cold
// program takes before it execs (become_program).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandbox/policy.h"

namespace sandbox {

// What a zygote says when a supervisor connects.
struct ZygoteHello {
  std::string python;                // the interpreter it runs (argv[0] of the runs it takes)
  std::vector<std::string> preload;  // the modules it imported
};

// Connects to the zygote at `socket_path` and reads its hello. Returns the connected socket,
// or -1 with `why` set.
int connect_zygote(const std::string& socket_path, ZygoteHello& hello, std::string& why);

// Whether a zygote of `hello` can start the policy's program: `python -m MODULE ...`,
// `python -c CODE ...` or `python SCRIPT ...` with no other interpreter options, python being the
// zygote's own. Returns an empty string when it can, else why not.
std::string warm_refusal(const Policy& policy, const ZygoteHello& hello);

// The descriptors a zygote's runner takes into the box, in the order they travel.
struct WarmFds {
  std::vector<int> namespaces;  // mount, pid, ipc, uts, net of the box's init
  int control = -1, stdin_fd = -1, stdout_fd = -1, stderr_fd = -1, channel = -1;
  std::vector<int> cgroup_join;  // v1: files the program writes "0" to
  int cgroup_dir = -1;           // v2: the run's cgroup folder
};

struct WarmFlags {
  bool memory_by_rlimit = false, pids_by_rlimit = false, cpu_by_rlimit = false;
};

// Sends the run to the zygote's runner. Returns an empty string, else the problem.
std::string send_warm_request(int zygote_fd, const Policy& policy, const WarmFlags& flags,
                              const WarmFds& fds);

// Becomes a zygote (execs the interpreter with grader-zygote.py and libgrader-warm.so, found
// beside this program) in a clean environment: PATH and `env` (NAME=VALUE) only, cwd /, no
// descriptor but stdio. Returns only on failure, with the reason.
std::string serve_zygote(const std::string& socket_path, const std::string& python,
                         const std::string& preload, const std::vector<std::string>& env);

}  // namespace sandbox
