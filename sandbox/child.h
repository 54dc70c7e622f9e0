// The processes inside the box: our init (PID 1, which builds the box and reaps) and the
// untrusted program (PID 2), which gets its limits, loses its privileges and execs.
#pragma once

#include <sys/resource.h>

#include <vector>

#include "sandbox/namespaces.h"
#include "sandbox/policy.h"

namespace sandbox {

// Messages on the control socket (SOCK_SEQPACKET: one message per send).
inline constexpr char kMsgGo = 'G';          // supervisor -> init: ids mapped
inline constexpr char kMsgSetupError = 'E';  // init -> supervisor: text follows
inline constexpr char kMsgExecError = 'X';   // program -> supervisor: text follows
inline constexpr char kMsgExit = 'S';        // init -> supervisor: ExitReport follows

struct ExitReport {
  int status = 0;  // as from wait4
  struct rusage usage {};
};

struct ChildSetup {
  const Policy* policy = nullptr;
  Isolation isolation = Isolation::Namespaces;
  int control_fd = -1;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // Opened by the supervisor: the child writes "0" to each to join the run's cgroup itself.
  std::vector<int> cgroup_join_fds;
  bool memory_by_rlimit = false;  // no memory cgroup: RLIMIT_DATA instead
  bool pids_by_rlimit = false;    // no pids cgroup: RLIMIT_NPROC instead
  bool cpu_by_rlimit = false;     // no CPU accounting cgroup: RLIMIT_CPU is the limit
};

// Runs in the cloned child; never returns.
[[noreturn]] void run_init(const ChildSetup& setup);

// Where there are no namespaces: the program alone, with a box path rewritten to its host path.
std::string host_path(const Policy& policy, const std::string& box_path);

}  // namespace sandbox
