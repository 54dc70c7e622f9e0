#include "sandbox/run.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/tree.h"
#include "sandbox/volumes.h"
#include "sandbox/warm.h"

namespace sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// The error of a warm start that failed before the program's end was reported: run() then
// runs the program again, cold.
constexpr const char* kWarmFailed = "warm start: ";

// A file descriptor that closes itself.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// One captured stream: bytes go to a host file until the run's shared output cap is reached.
struct Capture {
  Fd pipe;
  Fd file;
  uint64_t bytes = 0;
  bool open() const { return pipe.get() >= 0; }
};

Fd open_output(const std::string& path, std::string& error) {
  if (path.empty()) return Fd();
  // O_NOFOLLOW: never write through a link someone else planted at the path.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) error = "cannot open " + path + ": " + std::strerror(errno);
  return Fd(fd);
}

// Descriptors received from init: closed at the end of the run unless taken.
struct ReceivedFds {
  std::vector<int> fds;
  ~ReceivedFds() {
    for (int fd : fds) close(fd);
  }
};

// Folders that stood in for the box's tmpfs without namespaces: removed at the end.
struct TemporaryFolders {
  std::vector<std::string> paths;
  ~TemporaryFolders() {
    for (const auto& path : paths)
      if (std::string e = remove_tree(path); !e.empty()) spdlog::warn("{}", e);
  }
};

// Without namespaces the program cannot be made PID 1's child; anything else is the same.
std::optional<Isolation> try_isolation(Isolation i, const ChildSetup& base, pid_t& child) {
  ChildSetup setup = base;
  setup.isolation = i;
  pid_t pid = static_cast<pid_t>(
      syscall(SYS_clone, clone_flags(i) | SIGCHLD, nullptr, nullptr, nullptr, 0));
  if (pid == 0) run_init(setup);
  if (pid < 0) return std::nullopt;
  child = pid;
  return i;
}

// The zygote that is to start this run's program, where one was asked for and can.
struct WarmStart {
  Fd zygote;
  std::string note;  // why the run starts cold after all
  bool on() const { return zygote.get() >= 0; }
};

WarmStart reach_zygote(const Policy& p, const std::string& without_namespaces) {
  WarmStart w;
  if (p.zygote.empty()) return w;
  if (geteuid() != 0 || !without_namespaces.empty()) {
    w.note = "warm start needs the namespaces of a supervisor running as root";
    return w;
  }
  ZygoteHello hello;
  Fd fd(connect_zygote(p.zygote, hello, w.note));
  if (fd.get() < 0) return w;
  w.note = warm_refusal(p, hello);
  if (w.note.empty()) w.zygote = std::move(fd);
  return w;
}

// The box's namespaces as init holds them, for the zygote's runner to join.
std::vector<Fd> box_namespaces(pid_t init, std::string& error) {
  std::vector<Fd> fds;
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net"}) {
    std::string path = "/proc/" + std::to_string(init) + "/ns/" + ns;
    fds.emplace_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fds.back().get() < 0) error = "cannot open " + path + ": " + std::strerror(errno);
  }
  return fds;
}

}  // namespace

// One attempt; `without_namespaces` skips straight to the weakest isolation, with `why`.
static Result run_once(const Policy& p, const RunOptions& options,
                       const std::string& without_namespaces) {
  Result r;
  auto log = [&](const std::string& what) {
    if (options.verbose) spdlog::info("{}", what);
  };
  auto fail = [&](const std::string& why) {
    r.verdict = Verdict::SandboxError;
    r.error = why;
    return r;
  };
  if (std::string bad = validate(p); !bad.empty()) return fail("bad policy: " + bad);

  // Files first, as the supervisor: the box never sees these host paths.
  std::string error;
  Fd stdin_fd(::open(p.stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (stdin_fd.get() < 0)
    return fail("cannot open stdin " + p.stdin_path + ": " + std::strerror(errno));
  Capture out, err;
  out.file = open_output(p.stdout_path, error);
  err.file = open_output(p.stderr_path, error);
  // The channel: bytes the program writes to fd 3 land in a host file as they come.
  Capture channel;
  Fd channel_w;
  if (!p.channel_path.empty()) {
    channel.file = open_output(p.channel_path, error);
    int ch[2];
    if (error.empty() && pipe2(ch, O_CLOEXEC) != 0)
      error = std::string("channel pipe: ") + std::strerror(errno);
    if (error.empty()) {
      channel.pipe.reset(ch[0]);
      channel_w.reset(ch[1]);
    }
  }
  if (!error.empty()) return fail(error);
  int out_pipe[2], err_pipe[2], control[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0)
    return fail(std::string("pipes: ") + std::strerror(errno));
  out.pipe.reset(out_pipe[0]);
  err.pipe.reset(err_pipe[0]);
  Fd out_w(out_pipe[1]), err_w(err_pipe[1]), control_parent(control[0]), control_child(control[1]);

  ChildSetup setup;
  setup.policy = &p;
  setup.control_fd = control_child.get();
  setup.stdin_fd = stdin_fd.get();
  setup.stdout_fd = out_w.get();
  setup.stderr_fd = err_w.get();
  setup.channel_fd = channel_w.get();

  setup.cpus_known = sched_getaffinity(0, sizeof setup.cpus, &setup.cpus) == 0;
  WarmStart warm = reach_zygote(p, without_namespaces);

  // Strongest isolation first; each weaker one is reported, and refused under --strict.
  const auto started = Clock::now();
  Policy without_tmpfs;
  TemporaryFolders temporary;
  pid_t child = -1;
  std::optional<Isolation> isolation;
  std::string why_weaker = without_namespaces;
  if (geteuid() == 0 && without_namespaces.empty())
    isolation = try_isolation(Isolation::Namespaces, setup, child);
  if (!isolation && without_namespaces.empty()) {
    if (geteuid() == 0)
      why_weaker = std::string("namespaces as root: ") + std::strerror(errno) + "; ";
    isolation = try_isolation(Isolation::UserNamespaces, setup, child);
  }
  if (!isolation) {
    if (without_namespaces.empty())
      why_weaker += std::string("user namespaces: ") + std::strerror(errno);
    if (p.strict) return fail("--strict: cannot create namespaces (" + why_weaker + ")");
    if (!p.tmpfs.empty()) {
      without_tmpfs = tmpfs_as_host_folders(p, temporary.paths, error);
      if (!error.empty()) return fail(error);
      setup.policy = &without_tmpfs;
    }
    isolation = try_isolation(Isolation::None, setup, child);
    if (!isolation) return fail(std::string("clone: ") + std::strerror(errno));
  }
  log(std::string("isolation: ") + to_string(*isolation));
  if (warm.on() && *isolation != Isolation::Namespaces) {
    warm.zygote.reset();
    warm.note = "warm start needs the namespaces of a supervisor running as root";
  }
  r.start_note = warm.note;
  // Warm: the program's ends of the pipes go to the zygote's runner once the box is built.
  Fd warm_control, warm_stdin, warm_out, warm_err, warm_channel;
  if (warm.on()) {
    warm_control = std::move(control_child);
    warm_stdin = std::move(stdin_fd);
    warm_out = std::move(out_w);
    warm_err = std::move(err_w);
    warm_channel = std::move(channel_w);
  }
  // Linux starts a new child on its parent's CPU, where it waits until the parent sleeps
  // (measured here: 1 ms while the parent kept working, though the other core was idle). The
  // supervisor has work to do now, and so has init: move init to another of our CPUs. Init
  // takes the full set back as soon as it runs (setup.cpus).
  if (setup.cpus_known) {
    cpu_set_t others = setup.cpus;
    const int here = sched_getcpu();
    if (here >= 0 && here < CPU_SETSIZE) CPU_CLR(here, &others);
    if (CPU_COUNT(&others) > 0) sched_setaffinity(child, sizeof others, &others);
  }
  // Where the kernel has pidfds (5.3+), the supervisor's poll also wakes when init ends.
  Fd child_fd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
  control_child.reset();
  out_w.reset();
  err_w.reset();
  channel_w.reset();
  stdin_fd.reset();

  // While init builds the box's filesystem (it waits for "go" only before it starts the
  // program), make, as root, its network namespace, and the cgroup. The supervisor steps into
  // the new network namespace and straight back out, keeping a handle for init. (A thread of
  // its own for this was slower here: the two virtual CPUs share a core, and the kernel work
  // of network namespaces, cgroups and mounts contends for the same locks.)
  Fd netns;
  if (*isolation == Isolation::Namespaces) {
    Fd host_net(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (host_net.get() >= 0 && unshare(CLONE_NEWNET) == 0) {
      netns.reset(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
      if (setns(host_net.get(), CLONE_NEWNET) != 0) {
        const std::string why =
            std::string("back to the host's network namespace: ") + std::strerror(errno);
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        return fail(why);
      }
    }
  }
  Cgroup cgroup = Cgroup::create(p.memory, p.pids);
  log(std::string("cgroup: ") + cgroup.mode_name() +
      (cgroup.why_none().empty() ? "" : " (" + cgroup.why_none() + ")"));
  auto kill_everything = [&] {
    kill(child, SIGKILL);
    cgroup.kill_all();
  };
  auto abandon = [&](const std::string& why) {
    kill_everything();
    waitpid(child, nullptr, 0);
    return fail(why);
  };
  if (p.strict && !(cgroup.has_memory() && cgroup.has_pids() && cgroup.has_cpu()))
    return abandon("--strict: no cgroup with memory, pids and CPU accounting (" +
                   cgroup.why_none() + ")");
  if (*isolation == Isolation::UserNamespaces) {
    if (std::string e = write_id_maps(child); !e.empty())
      return abandon("user namespace id maps: " + e);
  }
  GoMessage go;
  go.memory_by_rlimit = !cgroup.has_memory();
  // RLIMIT_NPROC counts every process of a uid in a user namespace. In the box's own user
  // namespace that is the box; otherwise uid 65534 is shared with every other box and with the
  // machine's "nobody" processes, which would make this run fail for their sake (seen: a
  // container's box refused to exec while the host ran boxes). There it is not set.
  const bool own_user_namespace = *isolation == Isolation::UserNamespaces;
  go.pids_by_rlimit = !cgroup.has_pids() && own_user_namespace;
  go.cpu_by_rlimit = !cgroup.has_cpu();
  go.warm = warm.on();
  std::vector<int> go_fds;
  if (netns.get() >= 0) {  // otherwise init makes one itself
    go.netns_fd_first = true;
    go_fds.push_back(netns.get());
  }
  std::vector<Fd> join_files;
  for (const auto& f : cgroup.self_join_files()) {
    join_files.emplace_back(::open(f.c_str(), O_WRONLY | O_CLOEXEC));
    if (join_files.back().get() < 0)
      return abandon("cannot open " + f + ": " + std::strerror(errno));
    go_fds.push_back(join_files.back().get());
  }
  // v2: init forks the program straight into the cgroup (no process is ever moved).
  Fd cgroup_dir;
  if (std::string dir = cgroup.v2_dir(); !dir.empty()) {
    cgroup_dir.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (cgroup_dir.get() < 0) return abandon("cannot open " + dir + ": " + std::strerror(errno));
    go.cgroup_dir_fd_last = true;
    go_fds.push_back(cgroup_dir.get());
  }
  if (!send_go(control_parent.get(), go, go_fds)) {
    // Init may have given up already; if it said why, that is the story.
    char msg[512];
    ssize_t len = recv(control_parent.get(), msg, sizeof msg, MSG_DONTWAIT);
    if (len == 1 && msg[0] == kMsgVolumes)  // its tmpfs came first (their fds are dropped)
      len = recv(control_parent.get(), msg, sizeof msg, MSG_DONTWAIT);
    std::string why = "init did not start";
    if (len > 1 && msg[0] == kMsgSetupError)
      why = "box setup: " + std::string(msg + 1, static_cast<size_t>(len - 1));
    else if (len > 1)
      why = std::string(msg + 1, static_cast<size_t>(len - 1));
    return abandon(why);
  }
  if (!warm.on()) {
    join_files.clear();
    cgroup_dir.reset();
  }
  netns.reset();

  // Warm: once init says the box is built, the zygote's runner joins it with the program's
  // descriptors and forks the program into it; it reports the program's end as init would.
  bool warm_sent = false;
  std::string warm_error;
  auto start_warm = [&]() -> std::string {
    warm_sent = true;
    std::string error;
    std::vector<Fd> namespaces = box_namespaces(child, error);
    if (!error.empty()) return error;
    WarmFds fds;
    for (const auto& ns : namespaces) fds.namespaces.push_back(ns.get());
    fds.control = warm_control.get();
    fds.stdin_fd = warm_stdin.get();
    fds.stdout_fd = warm_out.get();
    fds.stderr_fd = warm_err.get();
    fds.channel = warm_channel.get();
    for (const auto& f : join_files) fds.cgroup_join.push_back(f.get());
    fds.cgroup_dir = cgroup_dir.get();
    WarmFlags flags{go.memory_by_rlimit, go.pids_by_rlimit, go.cpu_by_rlimit};
    error = send_warm_request(warm.zygote.get(), p, flags, fds);
    for (Fd* f : {&warm_control, &warm_stdin, &warm_out, &warm_err, &warm_channel, &cgroup_dir})
      f->reset();
    join_files.clear();
    if (error.empty()) r.start = "warm";
    return error;
  };

  // What was enforced, and by what.
  const std::string cg = cgroup.mode_name();
  r.enforced["memory"] = cgroup.has_memory() ? cg : "rlimit (per process, RLIMIT_DATA)";
  r.enforced["pids"] = cgroup.has_pids()   ? cg
                       : go.pids_by_rlimit ? "rlimit (RLIMIT_NPROC in the box's user namespace)"
                                           : "not enforced";
  r.enforced["cpu_time"] = cgroup.has_cpu() ? cg + " + rlimit" : "rlimit (per process)";
  r.enforced["wall_time"] = "timer";
  r.enforced["output"] = "supervisor";
  r.enforced["file_size"] = "rlimit";
  r.enforced["open_files"] = "rlimit";
  r.enforced["seccomp"] = "seccomp-bpf";
  r.enforced["no_new_privs"] = "prctl";
  const bool ns = *isolation != Isolation::None;
  r.enforced["namespaces"] =
      ns ? (*isolation == Isolation::UserNamespaces ? "user, pid, mount, net, ipc, uts, cgroup"
                                                    : "pid, mount, net, ipc, uts, cgroup")
         : "not enforced";
  r.enforced["filesystem"] = ns ? "pivot_root" : "not enforced";
  r.enforced["disk"] = ns ? "tmpfs size and inode caps" : "not enforced (no mount namespace)";
  r.enforced["network"] =
      ns ? (p.network == Network::Loopback ? "netns (loopback only)" : "netns (no interfaces)")
         : "not enforced";
  r.enforced["user"] = ns || geteuid() == 0 ? "uid " + std::to_string(kBoxId) : "not enforced";
  if (cgroup.mode() == Cgroup::Mode::None)
    r.warnings.push_back("no cgroup (" + cgroup.why_none() +
                         "): memory and CPU limits fall back to per-process rlimits" +
                         (go.pids_by_rlimit ? ", processes to RLIMIT_NPROC"
                                            : "; the process limit is not enforced"));
  if (!ns)
    r.warnings.push_back("no namespaces (" + why_weaker +
                         "): the program sees the host's files and network");

  // Supervise: copy output with a cap, watch the clocks, wait for init's report.
  const double wall_limit = p.effective_wall_time();
  const bool has_cgroup_cpu = cgroup.has_cpu();
  std::optional<ExitReport> report;
  std::string setup_error, exec_error;
  bool killed_output = false, killed_wall = false, killed_cpu = false, control_open = ns;
  uint64_t total = 0;
  char buf[65536];
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };

  auto drain_channel = [&] {
    ssize_t n = read(channel.pipe.get(), buf, sizeof buf);
    if (n <= 0) {
      channel.pipe.reset();
      return;
    }
    uint64_t room = channel.bytes < p.channel_size ? p.channel_size - channel.bytes : 0;
    uint64_t keep = std::min<uint64_t>(room, static_cast<uint64_t>(n));
    if (channel.file.get() >= 0 && keep) (void)!write(channel.file.get(), buf, keep);
    channel.bytes += static_cast<uint64_t>(n);
  };

  auto drain = [&](Capture& c) {
    ssize_t n = read(c.pipe.get(), buf, sizeof buf);
    if (n <= 0) {
      c.pipe.reset();
      return;
    }
    c.bytes += static_cast<uint64_t>(n);
    uint64_t room = total < p.output ? p.output - total : 0;
    uint64_t keep = std::min<uint64_t>(room, static_cast<uint64_t>(n));
    if (c.file.get() >= 0 && keep) (void)!write(c.file.get(), buf, keep);
    total += static_cast<uint64_t>(n);
    if (total > p.output && !killed_output) {
      killed_output = true;
      r.truncated = true;
      kill_everything();
    }
  };

  bool child_done = false;
  int child_status = 0;
  struct rusage child_usage {};
  std::optional<double> ended_at;        // when the program ended or was killed
  std::optional<double> runner_gone_at;  // warm: when the zygote's runner closed its socket
  // With a cgroup to vouch that the box is empty, init's own exit (tearing down its
  // namespaces) need not be waited for here: it overlaps the measuring and clean-up below.
  const bool cgroup_vouches = ns && cgroup.mode() != Cgroup::Mode::None;
  // After init's report nothing more comes on the control socket.
  ReceivedFds volume_roots;
  while (out.open() || err.open() || channel.open() || (control_open && !report) ||
         (!child_done && !cgroup_vouches)) {
    double left = wall_limit - elapsed();
    if ((report || killed_wall || killed_cpu || killed_output) && !ended_at) ended_at = elapsed();
    // Without a pid namespace a daemon may keep the pipes open: give up on it after a grace.
    if (ended_at && elapsed() - *ended_at > 1.0 && child_done) break;
    // A runner that ended without a report (its zygote was killed, say): the program cannot be
    // vouched for; the run is done again cold (run()).
    if (runner_gone_at && !report && warm_error.empty() && elapsed() - *runner_gone_at > 0.5) {
      warm_error = "the zygote's runner ended without reporting the program's end";
      kill_everything();
    }
    if (left <= 0 && !killed_wall && !report) {
      killed_wall = true;
      kill_everything();
    }
    if (has_cgroup_cpu && !killed_cpu && !report && cgroup.cpu_seconds() > p.cpu_time) {
      killed_cpu = true;
      kill_everything();
    }
    pollfd fds[6];
    int n = 0;
    if (out.open()) fds[n++] = {out.pipe.get(), POLLIN, 0};
    if (err.open()) fds[n++] = {err.pipe.get(), POLLIN, 0};
    if (channel.open()) fds[n++] = {channel.pipe.get(), POLLIN, 0};
    if (control_open) fds[n++] = {control_parent.get(), POLLIN, 0};
    if (warm_sent && warm.on()) fds[n++] = {warm.zygote.get(), POLLIN, 0};
    const int streams = n;
    // The child's pidfd becomes readable when it exits: no polling for the end of the run.
    if (!child_done && child_fd.get() >= 0) fds[n++] = {child_fd.get(), POLLIN, 0};
    // Short ticks while there is a CPU limit to watch; otherwise sleep until the wall limit.
    int tick = has_cgroup_cpu ? 50 : 1000;
    int timeout = left > 0 ? std::min<int>(tick, static_cast<int>(std::ceil(left * 1000))) : tick;
    if (!child_done && n == 0) {
      // Nothing left to read and no pidfd (a kernel before 5.3): look for the child's end.
      pid_t w = wait4(child, &child_status, WNOHANG, &child_usage);
      if (w == child) {
        child_done = true;
        continue;
      }
      usleep(static_cast<useconds_t>(std::min(timeout, 1) * 1000));
      continue;
    }
    int ready = poll(fds, static_cast<nfds_t>(n), timeout);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < streams && ready > 0; ++i) {
      if (!fds[i].revents) continue;
      if (out.open() && fds[i].fd == out.pipe.get()) {
        drain(out);
      } else if (err.open() && fds[i].fd == err.pipe.get()) {
        drain(err);
      } else if (channel.open() && fds[i].fd == channel.pipe.get()) {
        drain_channel();
      } else if (warm.on() && fds[i].fd == warm.zygote.get()) {
        char ignored[64];
        if (recv(warm.zygote.get(), ignored, sizeof ignored, MSG_DONTWAIT) <= 0) {
          warm.zygote.reset();
          runner_gone_at = elapsed();
        }
      } else if (control_open && fds[i].fd == control_parent.get()) {
        char msg[512];
        ReceivedFds received;
        ssize_t len = receive_with_fds(control_parent.get(), msg, sizeof msg, received.fds);
        if (len <= 0) {
          control_open = false;
        } else if (msg[0] == kMsgVolumes && volume_roots.fds.empty()) {
          std::swap(volume_roots.fds, received.fds);
        } else if (msg[0] == kMsgExit && static_cast<size_t>(len) == 1 + sizeof(ExitReport)) {
          ExitReport rep;
          std::memcpy(&rep, msg + 1, sizeof rep);
          report = rep;
          // The program is done: end the box now, so nothing it left keeps running. Init
          // leaves by itself, and with it the pid namespace; one round of SIGKILL suffices.
          kill(child, SIGKILL);
          cgroup.kill_all(false);
        } else if (msg[0] == kMsgReady && warm.on() && !warm_sent) {
          if (std::string e = start_warm(); !e.empty()) {
            warm_error = e;
            kill_everything();
          }
        } else if (msg[0] == kMsgSetupError) {
          setup_error.assign(msg + 1, static_cast<size_t>(len - 1));
        } else if (msg[0] == kMsgExecError) {
          exec_error.assign(msg + 1, static_cast<size_t>(len - 1));
        }
      }
    }
    if (!child_done) {
      pid_t w = wait4(child, &child_status, WNOHANG, &child_usage);
      if (w == child) child_done = true;
    }
  }
  r.wall_seconds = elapsed();
  if (!ns) report = ExitReport{child_status, child_usage};

  // Nothing of the box may be left: then measure, and remove the cgroup.
  cgroup.kill_all();
  r.stdout_bytes = out.bytes;
  r.stderr_bytes = err.bytes;
  r.channel_bytes = channel.bytes;
  const struct rusage* usage = report ? &report->usage : &child_usage;
  double rusage_cpu = static_cast<double>(usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) +
                      static_cast<double>(usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1e6;
  r.cpu_seconds = has_cgroup_cpu ? cgroup.cpu_seconds() : rusage_cpu;
  r.peak_memory_bytes =
      cgroup.has_memory() ? cgroup.peak_memory() : static_cast<uint64_t>(usage->ru_maxrss) * 1024;
  const bool oom = cgroup.oom_killed();
  const bool pids_hit = cgroup.pids_limit_hit();
  cgroup.destroy();
  if (!child_done) wait4(child, &child_status, 0, &child_usage);

  // Every process of the box is gone: what its tmpfs hold can be read without a race.
  std::string collect_error;
  if (ns) {
    r.volumes = finish_volumes(p, volume_roots.fds, collect_error);
  } else {
    for (const auto& t : p.tmpfs)
      r.volumes.push_back({t.dst,
                           t.size,
                           t.inodes,
                           0,
                           0,
                           "",
                           0,
                           0,
                           0,
                           {"not capped: a host folder (no mount namespace)"}});
  }

  if (!warm_error.empty()) return fail(kWarmFailed + warm_error);
  if (!setup_error.empty()) return fail("box setup: " + setup_error);
  if (!exec_error.empty()) return fail(exec_error);
  if (!collect_error.empty()) return fail(collect_error);
  if (!report && !killed_output && !killed_wall && !killed_cpu)
    return fail("init died without a report");

  int status = report ? report->status : 0;
  if (report) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  }
  // RLIMIT_CPU kills at whole seconds with SIGKILL (soft = hard), and rusage samples in
  // ticks, so a process it killed may show a little less CPU than the limit.
  const double rlimit_cpu = std::ceil(p.cpu_time) + (go.cpu_by_rlimit ? 0 : 1);
  const bool killed_by_rlimit =
      r.signal && *r.signal == SIGKILL && r.cpu_seconds >= 0.9 * rlimit_cpu;
  const bool cpu_over =
      r.cpu_seconds >= p.cpu_time - 0.02 || (r.signal && *r.signal == SIGXCPU) || killed_by_rlimit;
  if (killed_output) {
    r.verdict = Verdict::OutputLimit;
  } else if (pids_hit && !(r.exit_code && *r.exit_code == 0)) {
    // A fork or thread bomb usually ends on a clock; the process limit is the real story.
    r.verdict = Verdict::ProcessLimit;
  } else if (killed_wall) {
    r.verdict = Verdict::TimeLimit;
    r.limit_reason = "wall";
  } else if (killed_cpu || (cpu_over && r.signal)) {
    r.verdict = Verdict::TimeLimit;
    r.limit_reason = "cpu";
  } else if (oom) {
    r.verdict = Verdict::MemoryLimit;
  } else if (r.signal) {
    r.verdict = Verdict::Signaled;
  } else if (r.exit_code && *r.exit_code != 0) {
    r.verdict = Verdict::NonzeroExit;
  } else {
    r.verdict = Verdict::Ok;
  }
  // A full tmpfs is a limit of its own: the program's failure to write is its story.
  const bool plain_end = r.verdict == Verdict::Ok || r.verdict == Verdict::NonzeroExit ||
                         r.verdict == Verdict::Signaled;
  for (const auto& v : r.volumes) {
    if (v.full.empty() || !plain_end) continue;
    r.verdict = Verdict::OutputLimit;
    r.limit_reason = v.full;
    break;
  }
  return r;
}

Result run(const Policy& p, const RunOptions& options) {
  Result r = run_once(p, options, "");
  // A warm start that failed before the program could be vouched for: once more, cold.
  if (r.verdict == Verdict::SandboxError && r.error.rfind(kWarmFailed, 0) == 0) {
    Policy cold = p;
    cold.zygote.clear();
    const std::string why = r.error;
    r = run_once(cold, options, "");
    r.start_note = why;
    return r;
  }
  // Namespaces that can be created but not furnished (a container that masks /proc or
  // refuses mounts): run with what there is, and say so, unless --strict.
  const std::string setup_failed = "box setup: ";
  if (r.verdict == Verdict::SandboxError && r.error.rfind(setup_failed, 0) == 0 && !p.strict)
    return run_once(p, options, r.error);
  return r;
}

}  // namespace sandbox
