#include "sandbox/child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "sandbox/cgroup.h"
#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"

namespace sandbox {
namespace {

void send_text(int fd, char kind, const std::string& text) {
  std::string msg = kind + text;
  (void)send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
}

void set_limit(int resource, uint64_t value) {
  struct rlimit rl {
    static_cast<rlim_t>(value), static_cast<rlim_t>(value)
  };
  if (setrlimit(resource, &rl) != 0)
    throw std::runtime_error("setrlimit " + std::to_string(resource) + ": " + std::strerror(errno));
}

void drop_capabilities() {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  struct __user_cap_header_struct header {
    _LINUX_CAPABILITY_VERSION_3, 0
  };
  struct __user_cap_data_struct data[2]{};
  if (syscall(SYS_capset, &header, data) != 0)
    throw std::runtime_error(std::string("capset: ") + std::strerror(errno));
}

// Closes every descriptor from `first` on but `keep`.
void close_other_fds(int first, int keep) {
  // close_range is Linux 5.9+; fall back to a loop where it is missing.
  auto close_from_to = [](unsigned from, unsigned last) {
    if (from > last) return;
    if (syscall(SYS_close_range, from, last, 0) == 0) return;
    for (unsigned fd = from; fd <= last && fd < 65536; ++fd) close(static_cast<int>(fd));
  };
  close_from_to(static_cast<unsigned>(first), static_cast<unsigned>(keep) - 1);
  close_from_to(static_cast<unsigned>(keep) + 1, ~0u);
}

// The channel's pipe at kChannelFd, open across exec. Returns where the control socket is
// now (moved out of the way when it sat at kChannelFd).
int place_channel(const ChildSetup& s) {
  int control = s.control_fd;
  if (s.channel_fd < 0) return control;
  if (control == kChannelFd) control = fcntl(control, F_DUPFD_CLOEXEC, kChannelFd + 1);
  if (control < 0) throw std::runtime_error(std::string("fcntl: ") + std::strerror(errno));
  if (s.channel_fd == kChannelFd ? fcntl(kChannelFd, F_SETFD, 0) != 0
                                 : dup2(s.channel_fd, kChannelFd) < 0)
    throw std::runtime_error(std::string("channel fd: ") + std::strerror(errno));
  return control;
}

// Into the run's cgroup, by the program itself before it execs (a thread moving itself skips
// the kernel's global lock that moving another process takes): v1 writes "0" to each
// hierarchy's tasks file; v2 writes it to cgroup.procs where the program could not be born
// inside. Init stays outside, so the cgroup is empty as soon as the program's processes are
// gone, whatever init is still doing.
void join_cgroup(const ChildSetup& s) {
  auto join = [&](int fd) {
    if (write(fd, "0", 1) != 1) {
      send_text(s.control_fd, kMsgExecError,
                std::string("cannot join the run's cgroup: ") + std::strerror(errno));
      _exit(127);
    }
  };
  for (int fd : s.cgroup_join_fds) join(fd);
  if (s.cgroup_dir_fd >= 0 && !s.born_in_cgroup) {
    int procs = openat(s.cgroup_dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (procs < 0) {
      send_text(s.control_fd, kMsgExecError,
                std::string("cannot open the run's cgroup.procs: ") + std::strerror(errno));
      _exit(127);
    }
    join(procs);
  }
}

}  // namespace

// The untrusted program's own steps: the cgroup, limits, identity, filter. Returns the control
// socket's descriptor (moved when it sat at the channel's place); on failure it reports on the
// control socket and exits.
int become_program(const ChildSetup& s) {
  const Policy& p = *s.policy;
  join_cgroup(s);
  // Inside the run's cgroup now: make it the root of what the box sees, while we still have
  // the privilege to. Failing here is part of building the box.
  if (s.isolation != Isolation::None && unshare(CLONE_NEWCGROUP) != 0) {
    send_text(s.control_fd, kMsgSetupError,
              std::string("cgroup namespace: ") + std::strerror(errno));
    _exit(127);
  }
  int control = s.control_fd;
  try {
    setsid();
    if (dup2(s.stdin_fd, 0) < 0 || dup2(s.stdout_fd, 1) < 0 || dup2(s.stderr_fd, 2) < 0)
      throw std::runtime_error(std::string("dup2: ") + std::strerror(errno));
    control = place_channel(s);
    // With a cgroup the supervisor enforces the precise CPU limit and this is a backstop;
    // without one, it is the limit.
    set_limit(RLIMIT_CPU, static_cast<uint64_t>(std::ceil(p.cpu_time)) + (s.cpu_by_rlimit ? 0 : 1));
    set_limit(RLIMIT_FSIZE, p.file_size);
    set_limit(RLIMIT_NOFILE, p.open_files);
    set_limit(RLIMIT_CORE, 0);
    set_limit(RLIMIT_MSGQUEUE, 0);
    if (s.memory_by_rlimit) set_limit(RLIMIT_DATA, p.memory);
    if (s.pids_by_rlimit) set_limit(RLIMIT_NPROC, p.pids);

    std::string cwd = s.isolation == Isolation::None ? host_path(p, p.cwd) : p.cwd;
    if (chdir(cwd.c_str()) != 0)
      throw std::runtime_error("cwd " + p.cwd + ": " + std::strerror(errno));

    if (getuid() == 0 || s.isolation != Isolation::None) {
      if (s.isolation == Isolation::Namespaces && setgroups(0, nullptr) != 0)
        throw std::runtime_error(std::string("setgroups: ") + std::strerror(errno));
      if (setresgid(kBoxId, kBoxId, kBoxId) != 0 || setresuid(kBoxId, kBoxId, kBoxId) != 0)
        throw std::runtime_error(std::string("cannot become uid ") + std::to_string(kBoxId) + ": " +
                                 std::strerror(errno));
      drop_capabilities();
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close_other_fds(s.channel_fd >= 0 ? kChannelFd + 1 : 3, control);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      throw std::runtime_error(std::string("no_new_privs: ") + std::strerror(errno));
    std::string err = install_seccomp();
    if (!err.empty()) throw std::runtime_error(err);
  } catch (const std::exception& e) {
    send_text(control, kMsgExecError, e.what());
    _exit(127);
  }
  return control;
}

namespace {

// A cold start: the program becomes itself and execs. Runs as PID 2 (or alone without
// namespaces).
[[noreturn]] void exec_program(const ChildSetup& s) {
  const Policy& p = *s.policy;
  const int control = become_program(s);
  std::vector<std::string> args = p.argv;
  std::vector<std::string> env;
  for (const auto& [k, v] : p.env)
    env.push_back(k + "=" + (s.isolation == Isolation::None ? host_path(p, v) : v));
  if (s.isolation == Isolation::None)
    for (auto& a : args) a = host_path(p, a);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  send_text(control, kMsgExecError, "cannot execute " + p.argv[0] + ": " + std::strerror(errno));
  _exit(127);
}

}  // namespace

std::string host_path(const Policy& p, const std::string& box_path) {
  // Longest matching bind destination wins.
  const Bind* best = nullptr;
  for (const auto& b : p.binds) {
    const std::string& d = b.dst;
    bool under =
        box_path == d || (box_path.size() > d.size() && box_path.compare(0, d.size(), d) == 0 &&
                          box_path[d.size()] == '/');
    if (under && (!best || d.size() > best->dst.size())) best = &b;
  }
  if (!best) {
    // Options such as --rootdir=/grader carry a box path after '='.
    if (auto eq = box_path.find('=');
        eq != std::string::npos && eq + 1 < box_path.size() && box_path[eq + 1] == '/')
      return box_path.substr(0, eq + 1) + host_path(p, box_path.substr(eq + 1));
    // Also rewrite inside colon-separated lists such as PYTHONPATH=/work:/grader.
    if (box_path.find(':') != std::string::npos) {
      std::string out, part;
      size_t start = 0;
      while (true) {
        size_t end = box_path.find(':', start);
        part = box_path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        out += host_path(p, part);
        if (end == std::string::npos) break;
        out += ':';
        start = end + 1;
      }
      return out;
    }
    return box_path;
  }
  return best->src + box_path.substr(best->dst.size());
}

namespace {

// Waits for the supervisor's GoMessage and takes its settings and join files into `s`.
bool receive_go(ChildSetup& s) {
  GoMessage go;
  iovec iov{&go, sizeof go};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(s.control_fd, &msg, MSG_CMSG_CLOEXEC) != sizeof go || go.kind != kMsgGo) return false;
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (go.netns_fd_first) {
    if (fds.empty()) return false;
    s.netns_fd = fds.front();
    fds.erase(fds.begin());
  }
  if (go.cgroup_dir_fd_last) {
    if (fds.empty()) return false;
    s.cgroup_dir_fd = fds.back();
    fds.pop_back();
  }
  s.cgroup_join_fds = fds;
  s.memory_by_rlimit = go.memory_by_rlimit;
  s.pids_by_rlimit = go.pids_by_rlimit;
  s.cpu_by_rlimit = go.cpu_by_rlimit;
  s.warm = go.warm;
  return true;
}

// Name and filesystem of the box; the roots of its own tmpfs go to the supervisor, which
// reads and drops them after the run. Throws std::runtime_error.
void furnish_box(const ChildSetup& s, bool in_user_namespace) {
  // Cosmetic: some container seccomp profiles refuse sethostname even in a new UTS namespace.
  try {
    set_hostname();
  } catch (const std::exception&) {
  }
  std::vector<int> volumes = build_root(*s.policy, in_user_namespace);
  if (volumes.empty()) return;
  if (!send_fds(s.control_fd, kMsgVolumes, volumes))
    throw std::runtime_error(std::string("sending the tmpfs to the supervisor: ") +
                             std::strerror(errno));
  for (int fd : volumes) close(fd);
}

// The box's network: the namespace the supervisor made meanwhile (as root), or a new one made
// here (in a user namespace, which must own it). Throws std::runtime_error.
void enter_network(ChildSetup& s) {
  if (s.netns_fd >= 0) {
    if (setns(s.netns_fd, CLONE_NEWNET) != 0)
      throw std::runtime_error(std::string("network namespace: ") + std::strerror(errno));
    close(s.netns_fd);
    s.netns_fd = -1;
  } else if (unshare(CLONE_NEWNET) != 0) {
    throw std::runtime_error(std::string("network namespace: ") + std::strerror(errno));
  }
  if (s.policy->network == Network::Loopback) bring_up_loopback();
}

// fork() for the program: on cgroup v2 it is born in the run's cgroup; where clone3 is
// refused (and on v1) it joins by itself before it execs.
pid_t start_program(ChildSetup& s) {
  if (s.cgroup_dir_fd >= 0) {
    pid_t pid = fork_into_cgroup(s.cgroup_dir_fd);
    if (pid >= 0) {
      s.born_in_cgroup = true;
      return pid;
    }
  }
  return fork();
}

}  // namespace

bool send_with_fds(int fd, const void* data, size_t size, const std::vector<int>& fds) {
  if (fds.size() > kMaxSentFds) return false;
  iovec iov{const_cast<void*>(data), size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxSentFds)]{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(fd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
}

bool send_go(int control_fd, const GoMessage& go, const std::vector<int>& fds) {
  return fds.size() <= 4 && send_with_fds(control_fd, &go, sizeof go, fds);
}

bool send_fds(int control_fd, char kind, const std::vector<int>& fds) {
  return !fds.empty() && fds.size() <= kMaxTmpfs && send_with_fds(control_fd, &kind, 1, fds);
}

ssize_t receive_with_fds(int control_fd, char* buf, size_t size, std::vector<int>& fds) {
  iovec iov{buf, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxTmpfs)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(control_fd, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  return n;
}

namespace {

void on_child(int) {}

// Warm start: the program is a zygote's fork, joined to this box by the zygote's runner, which
// also reports its end. Init tells the supervisor the box is built, then only reaps whatever
// the program leaves orphaned here, until the supervisor ends the box.
[[noreturn]] void wait_for_a_warm_program(const ChildSetup& s) {
  for (int fd : s.cgroup_join_fds) close(fd);
  if (s.cgroup_dir_fd >= 0) close(s.cgroup_dir_fd);
  for (int fd : {s.stdin_fd, s.stdout_fd, s.stderr_fd, s.channel_fd})
    if (fd >= 0) close(fd);
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  struct sigaction sa {};
  sa.sa_handler = on_child;
  sigaction(SIGCHLD, &sa, nullptr);
  const char ready = kMsgReady;
  (void)send(s.control_fd, &ready, 1, MSG_NOSIGNAL);
  while (true) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    sigsuspend(&old);
  }
}

}  // namespace

void run_init(const ChildSetup& base) {
  // The supervisor moved us off its CPU to start us at once; from here on the scheduler may
  // place us anywhere again (taken back once more at "go", in case its move came after this).
  if (base.cpus_known) sched_setaffinity(0, sizeof base.cpus, &base.cpus);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  ChildSetup s = base;
  try {
    // As root the box can be built before the supervisor's go-ahead; in a user namespace,
    // mounts need the id maps that the go-ahead announces.
    const bool early = s.isolation == Isolation::Namespaces;
    if (unsigned long late = late_namespaces(s.isolation); late && unshare(late) != 0)
      throw std::runtime_error(std::string("namespaces: ") + std::strerror(errno));
    if (early) furnish_box(s, false);
    if (!receive_go(s)) _exit(1);
    // The supervisor may have moved us off its CPU until now (it did so before "go").
    if (s.cpus_known) sched_setaffinity(0, sizeof s.cpus, &s.cpus);
    if (s.isolation == Isolation::None) exec_program(s);
    if (!early) furnish_box(s, s.isolation == Isolation::UserNamespaces);
    enter_network(s);
    // Keep the program from reading our memory or environment through /proc/1.
    prctl(PR_SET_DUMPABLE, 0);
  } catch (const std::exception& e) {
    send_text(s.control_fd, kMsgSetupError, e.what());
    _exit(1);
  }

  if (s.warm) wait_for_a_warm_program(s);
  pid_t program = start_program(s);
  if (program < 0) {
    send_text(s.control_fd, kMsgSetupError, std::string("fork: ") + std::strerror(errno));
    _exit(1);
  }
  if (program == 0) exec_program(s);
  for (int fd : s.cgroup_join_fds) close(fd);
  if (s.cgroup_dir_fd >= 0) close(s.cgroup_dir_fd);
  close(s.stdin_fd);
  close(s.stdout_fd);
  close(s.stderr_fd);
  if (s.channel_fd >= 0) close(s.channel_fd);

  // Reap everything; when the program itself ends, report it and leave: the kernel then kills
  // whatever it left behind in this pid namespace.
  while (true) {
    ExitReport report;
    pid_t pid = wait4(-1, &report.status, 0, &report.usage);
    if (pid == program) {
      char msg[1 + sizeof report];
      msg[0] = kMsgExit;
      std::memcpy(msg + 1, &report, sizeof report);
      (void)send(s.control_fd, msg, sizeof msg, MSG_NOSIGNAL);
      _exit(0);
    }
    if (pid < 0 && errno != EINTR) _exit(1);
  }
}

}  // namespace sandbox
