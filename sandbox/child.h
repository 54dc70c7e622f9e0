// The processes inside the box: our init (PID 1, which builds the box and reaps) and the
// untrusted program (PID 2), which gets its limits, loses its privileges and execs.
#pragma once

#include <sched.h>
#include <sys/resource.h>

#include <vector>

#include "sandbox/namespaces.h"
#include "sandbox/policy.h"

namespace sandbox {

// Messages on the control socket (SOCK_SEQPACKET: one message per send).
inline constexpr char kMsgGo = 'G';          // supervisor -> init: GoMessage, join fds
inline constexpr char kMsgSetupError = 'E';  // init -> supervisor: text follows
inline constexpr char kMsgExecError = 'X';   // program -> supervisor: text follows
inline constexpr char kMsgExit = 'S';        // init -> supervisor: ExitReport follows
inline constexpr char kMsgVolumes = 'V';     // init -> supervisor: the tmpfs roots (SCM_RIGHTS)
inline constexpr char kMsgReady = 'R';       // init -> supervisor: the box is built (warm start)

// The fd at which the program finds the policy's channel (a pipe to the supervisor).
inline constexpr int kChannelFd = 3;

struct ExitReport {
  int status = 0;  // as from wait4
  struct rusage usage {};
};

// The supervisor's go-ahead, sent once the user ids are mapped and the cgroup exists. File
// descriptors travel with it as SCM_RIGHTS: the network namespace the supervisor made (as
// root), then the files the program writes "0" to, to join the cgroup (cgroup v1), or the
// cgroup's folder (v2).
struct GoMessage {
  char kind = kMsgGo;
  bool memory_by_rlimit = false;    // no memory cgroup: RLIMIT_DATA instead
  bool pids_by_rlimit = false;      // no pids cgroup: RLIMIT_NPROC instead
  bool cpu_by_rlimit = false;       // no CPU accounting cgroup: RLIMIT_CPU is the limit
  bool netns_fd_first = false;      // the first fd is a network namespace to enter (as root)
  bool cgroup_dir_fd_last = false;  // the last fd is a cgroup v2 folder to fork the program into
  bool warm = false;                // a zygote's fork becomes the program (init only reaps)
};
bool send_go(int control_fd, const GoMessage& go, const std::vector<int>& fds);

// One message of `size` bytes with at most kMaxSentFds descriptors attached (SCM_RIGHTS).
inline constexpr size_t kMaxSentFds = 16;
bool send_with_fds(int fd, const void* data, size_t size, const std::vector<int>& fds);

// One message of `kind` with file descriptors attached (at most kMaxTmpfs).
bool send_fds(int control_fd, char kind, const std::vector<int>& fds);
// Receives one message into `buf`; attached descriptors are appended to `fds`. Returns the
// length as recv does.
ssize_t receive_with_fds(int control_fd, char* buf, size_t size, std::vector<int>& fds);

struct ChildSetup {
  const Policy* policy = nullptr;
  Isolation isolation = Isolation::Namespaces;
  int control_fd = -1;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  int channel_fd = -1;  // write end of the channel pipe, or -1
  // The supervisor's CPUs: init starts on another one and takes these back for the program.
  cpu_set_t cpus{};
  bool cpus_known = false;
  // From the GoMessage.
  bool memory_by_rlimit = false, pids_by_rlimit = false, cpu_by_rlimit = false;
  int netns_fd = -1;
  std::vector<int> cgroup_join_fds;  // v1: files the program writes "0" to
  int cgroup_dir_fd = -1;            // v2: the folder the program is born in (or joins)
  bool born_in_cgroup = false;       // v2: clone3 put the program there
  bool warm = false;                 // from the GoMessage
};

// The program's own steps before it runs: joins the cgroup (and a cgroup namespace), takes the
// run's stdio and channel, limits, working folder, uid 65534 without capabilities, closes every
// other descriptor but the control socket, no_new_privs, the seccomp filter. Returns the control
// socket's descriptor; on failure reports on the control socket and exits. A cold start execs
// next; a warm one (a zygote's fork) closes the control socket and runs in-process.
int become_program(const ChildSetup& setup);

// Runs in the cloned child; never returns.
[[noreturn]] void run_init(const ChildSetup& setup);

// Where there are no namespaces: the program alone, with a box path rewritten to its host path.
std::string host_path(const Policy& policy, const std::string& box_path);

}  // namespace sandbox
