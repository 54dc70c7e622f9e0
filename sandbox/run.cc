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

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/tree.h"
#include "sandbox/verdict.h"
#include "sandbox/volumes.h"
#include "sandbox/warm.h"

namespace sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// The error of a warm start that failed before the program's end was reported: run() then
// runs the program again, cold.
constexpr const char* kWarmFailed = "warm start: ";

using common::Fd;

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

// One attempt at a run, read as a list of steps (Attempt::run): each step builds one part of
// the run and hands on what it made through the members; a step that cannot says why, and the
// run ends there as a sandbox error. `without_namespaces` skips straight to the weakest
// isolation, with that reason.
class Attempt {
 public:
  Attempt(const Policy& p, const RunOptions& options, std::string without_namespaces)
      : p_(p), options_(options), without_namespaces_(std::move(without_namespaces)) {}
  Result run();

 private:
  using Step = std::string (Attempt::*)();
  // Set-up, as the supervisor, in order. Each returns "" or why the run cannot go on.
  std::string open_streams();  // stdin, the output files, the pipes, the channel
  std::string start_init();    // clone init with the strongest isolation there is
  std::string let_init_run();  // init on another CPU; the supervisor drops the box's ends
  std::string make_network();  // the box's network namespace, made as root
  std::string make_cgroup();   // the run's fresh cgroup
  std::string map_ids();       // a user namespace's uid and gid maps
  std::string send_go();       // the limits' enforcers and the cgroup's files, to init
  // While and after the program runs.
  void describe_enforcement();
  void supervise();
  void watch_limits(double left);
  bool wait_for_events(double left);  // false: nothing more will come
  void drain(Capture& c);
  void drain_channel();
  void on_control_message();
  std::string start_warm();
  void reap(int flags);
  void measure_and_clean_up();
  void collect_volumes();
  std::string failure() const;  // what made the run a sandbox error after all, or ""
  void judge();

  void log(const std::string& what) const {
    if (options_.verbose) spdlog::info("{}", what);
  }
  bool namespaces() const { return isolation_ != Isolation::None; }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }
  void kill_everything() {
    kill(child_, SIGKILL);
    if (cgroup_) cgroup_->kill_all();
  }
  // A sandbox error. Init and whatever the box holds are ended first, where they were started.
  Result fail(const std::string& why) {
    if (child_ > 0 && !child_done_) {
      kill_everything();
      waitpid(child_, nullptr, 0);
      child_done_ = true;
    }
    r_.verdict = Verdict::SandboxError;
    r_.error = why;
    return r_;
  }

  const Policy& p_;
  const RunOptions& options_;
  const std::string without_namespaces_;
  Result r_;
  // open_streams
  Fd stdin_fd_;
  Capture out_, err_, channel_;
  Fd out_w_, err_w_, channel_w_, control_parent_, control_child_;
  // start_init
  ChildSetup setup_;
  WarmStart warm_;
  Clock::time_point started_;
  Policy without_tmpfs_;
  TemporaryFolders temporary_;  // declared before the cgroup: removed after it
  Isolation isolation_ = Isolation::None;
  std::string why_weaker_;
  pid_t child_ = -1;
  // let_init_run: with a warm start, the program's ends go to the zygote's runner.
  Fd warm_control_, warm_stdin_, warm_out_, warm_err_, warm_channel_;
  Fd child_fd_;  // a pidfd (Linux 5.3+): the supervisor's poll also wakes when init ends
  // make_network, make_cgroup, send_go
  Fd netns_;
  std::optional<Cgroup> cgroup_;
  GoMessage go_;
  std::vector<Fd> join_files_;
  Fd cgroup_dir_;
  // supervise
  std::optional<ExitReport> report_;
  std::string setup_error_, exec_error_, warm_error_, collect_error_;
  bool killed_output_ = false, killed_wall_ = false, killed_cpu_ = false;
  bool control_open_ = false, warm_sent_ = false, child_done_ = false;
  uint64_t total_ = 0;  // stdout and stderr together
  int child_status_ = 0;
  struct rusage child_usage_ {};
  std::optional<double> ended_at_;        // when the program ended or was killed
  std::optional<double> runner_gone_at_;  // warm: when the zygote's runner closed its socket
  ReceivedFds volume_roots_;              // after init's report nothing more comes
  std::array<char, 65536> buf_;
  // measure_and_clean_up
  bool oom_ = false, pids_hit_ = false;
};

Result Attempt::run() {
  if (std::string bad = validate(p_); !bad.empty()) return fail("bad policy: " + bad);
  for (Step step :
       {&Attempt::open_streams, &Attempt::start_init, &Attempt::let_init_run,
        &Attempt::make_network, &Attempt::make_cgroup, &Attempt::map_ids, &Attempt::send_go}) {
    if (std::string why = (this->*step)(); !why.empty()) return fail(why);
  }
  describe_enforcement();
  supervise();
  measure_and_clean_up();
  collect_volumes();
  if (std::string why = failure(); !why.empty()) return fail(why);
  judge();
  return r_;
}

// Files first, as the supervisor: the box never sees these host paths.
std::string Attempt::open_streams() {
  std::string error;
  stdin_fd_.reset(::open(p_.stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (stdin_fd_.get() < 0)
    return "cannot open stdin " + p_.stdin_path + ": " + std::strerror(errno);
  out_.file = open_output(p_.stdout_path, error);
  err_.file = open_output(p_.stderr_path, error);
  // The channel: bytes the program writes to fd 3 land in a host file as they come.
  if (!p_.channel_path.empty()) {
    channel_.file = open_output(p_.channel_path, error);
    int ch[2];
    if (error.empty() && pipe2(ch, O_CLOEXEC) != 0)
      error = std::string("channel pipe: ") + std::strerror(errno);
    if (error.empty()) {
      channel_.pipe.reset(ch[0]);
      channel_w_.reset(ch[1]);
    }
  }
  if (!error.empty()) return error;
  int out_pipe[2], err_pipe[2], control[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control) != 0)
    return std::string("pipes: ") + std::strerror(errno);
  out_.pipe.reset(out_pipe[0]);
  err_.pipe.reset(err_pipe[0]);
  out_w_.reset(out_pipe[1]);
  err_w_.reset(err_pipe[1]);
  control_parent_.reset(control[0]);
  control_child_.reset(control[1]);
  setup_.policy = &p_;
  setup_.control_fd = control_child_.get();
  setup_.stdin_fd = stdin_fd_.get();
  setup_.stdout_fd = out_w_.get();
  setup_.stderr_fd = err_w_.get();
  setup_.channel_fd = channel_w_.get();
  return "";
}

// Strongest isolation first; each weaker one is reported, and refused under --strict.
std::string Attempt::start_init() {
  setup_.cpus_known = sched_getaffinity(0, sizeof setup_.cpus, &setup_.cpus) == 0;
  warm_ = reach_zygote(p_, without_namespaces_);
  started_ = Clock::now();
  const bool may_use_namespaces = without_namespaces_.empty();
  why_weaker_ = without_namespaces_;
  std::optional<Isolation> isolation;
  if (geteuid() == 0 && may_use_namespaces)
    isolation = try_isolation(Isolation::Namespaces, setup_, child_);
  if (!isolation && may_use_namespaces) {
    if (geteuid() == 0)
      why_weaker_ = std::string("namespaces as root: ") + std::strerror(errno) + "; ";
    isolation = try_isolation(Isolation::UserNamespaces, setup_, child_);
  }
  if (!isolation) {
    if (may_use_namespaces) why_weaker_ += std::string("user namespaces: ") + std::strerror(errno);
    if (p_.strict) return "--strict: cannot create namespaces (" + why_weaker_ + ")";
    if (!p_.tmpfs.empty()) {
      std::string error;
      without_tmpfs_ = tmpfs_as_host_folders(p_, temporary_.paths, error);
      if (!error.empty()) return error;
      setup_.policy = &without_tmpfs_;
    }
    isolation = try_isolation(Isolation::None, setup_, child_);
    if (!isolation) return std::string("clone: ") + std::strerror(errno);
  }
  isolation_ = *isolation;
  log(std::string("isolation: ") + to_string(isolation_));
  if (warm_.on() && isolation_ != Isolation::Namespaces) {
    warm_.zygote.reset();
    warm_.note = "warm start needs the namespaces of a supervisor running as root";
  }
  r_.start_note = warm_.note;
  return "";
}

std::string Attempt::let_init_run() {
  if (warm_.on()) {  // the program's ends of the pipes go to the zygote's runner, later
    warm_control_ = std::move(control_child_);
    warm_stdin_ = std::move(stdin_fd_);
    warm_out_ = std::move(out_w_);
    warm_err_ = std::move(err_w_);
    warm_channel_ = std::move(channel_w_);
  }
  // Linux starts a new child on its parent's CPU, where it waits until the parent sleeps
  // (measured here: 1 ms while the parent kept working, though the other core was idle). The
  // supervisor has work to do now, and so has init: move init to another of our CPUs. Init
  // takes the full set back as soon as it runs (setup.cpus).
  if (setup_.cpus_known) {
    cpu_set_t others = setup_.cpus;
    const int here = sched_getcpu();
    if (here >= 0 && here < CPU_SETSIZE) CPU_CLR(here, &others);
    if (CPU_COUNT(&others) > 0) sched_setaffinity(child_, sizeof others, &others);
  }
  child_fd_.reset(static_cast<int>(syscall(SYS_pidfd_open, child_, 0)));
  for (Fd* end : {&control_child_, &out_w_, &err_w_, &channel_w_, &stdin_fd_}) end->reset();
  return "";
}

// While init builds the box's filesystem (it waits for "go" only before it starts the
// program), make, as root, its network namespace, and the cgroup. The supervisor steps into
// the new network namespace and straight back out, keeping a handle for init. (A thread of
// its own for this was slower here: the two virtual CPUs share a core, and the kernel work
// of network namespaces, cgroups and mounts contends for the same locks.)
std::string Attempt::make_network() {
  if (isolation_ != Isolation::Namespaces) return "";
  Fd host_net(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (host_net.get() < 0 || unshare(CLONE_NEWNET) != 0) return "";  // init makes one itself
  netns_.reset(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (setns(host_net.get(), CLONE_NEWNET) != 0)
    return std::string("back to the host's network namespace: ") + std::strerror(errno);
  return "";
}

std::string Attempt::make_cgroup() {
  cgroup_.emplace(Cgroup::create(p_.memory, p_.pids));
  log(std::string("cgroup: ") + cgroup_->mode_name() +
      (cgroup_->why_none().empty() ? "" : " (" + cgroup_->why_none() + ")"));
  if (p_.strict && !(cgroup_->has_memory() && cgroup_->has_pids() && cgroup_->has_cpu()))
    return "--strict: no cgroup with memory, pids and CPU accounting (" + cgroup_->why_none() + ")";
  return "";
}

std::string Attempt::map_ids() {
  if (isolation_ != Isolation::UserNamespaces) return "";
  if (std::string e = write_id_maps(child_); !e.empty()) return "user namespace id maps: " + e;
  return "";
}

std::string Attempt::send_go() {
  go_.memory_by_rlimit = !cgroup_->has_memory();
  // RLIMIT_NPROC counts every process of a uid in a user namespace. In the box's own user
  // namespace that is the box; otherwise uid 65534 is shared with every other box and with the
  // machine's "nobody" processes, which would make this run fail for their sake (seen: a
  // container's box refused to exec while the host ran boxes). There it is not set.
  const bool own_user_namespace = isolation_ == Isolation::UserNamespaces;
  go_.pids_by_rlimit = !cgroup_->has_pids() && own_user_namespace;
  go_.cpu_by_rlimit = !cgroup_->has_cpu();
  go_.warm = warm_.on();
  std::vector<int> go_fds;
  if (netns_.get() >= 0) {  // otherwise init makes one itself
    go_.netns_fd_first = true;
    go_fds.push_back(netns_.get());
  }
  for (const auto& f : cgroup_->self_join_files()) {
    join_files_.emplace_back(::open(f.c_str(), O_WRONLY | O_CLOEXEC));
    if (join_files_.back().get() < 0) return "cannot open " + f + ": " + std::strerror(errno);
    go_fds.push_back(join_files_.back().get());
  }
  // v2: init forks the program straight into the cgroup (no process is ever moved).
  if (std::string dir = cgroup_->v2_dir(); !dir.empty()) {
    cgroup_dir_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (cgroup_dir_.get() < 0) return "cannot open " + dir + ": " + std::strerror(errno);
    go_.cgroup_dir_fd_last = true;
    go_fds.push_back(cgroup_dir_.get());
  }
  if (!sandbox::send_go(control_parent_.get(), go_, go_fds)) {
    // Init may have given up already; if it said why, that is the story.
    char msg[512];
    ssize_t len = recv(control_parent_.get(), msg, sizeof msg, MSG_DONTWAIT);
    if (len == 1 && msg[0] == kMsgVolumes)  // its tmpfs came first (their fds are dropped)
      len = recv(control_parent_.get(), msg, sizeof msg, MSG_DONTWAIT);
    if (len > 1 && msg[0] == kMsgSetupError)
      return "box setup: " + std::string(msg + 1, static_cast<size_t>(len - 1));
    if (len > 1) return std::string(msg + 1, static_cast<size_t>(len - 1));
    return "init did not start";
  }
  if (!warm_.on()) {  // the zygote's runner needs them to join the cgroup
    join_files_.clear();
    cgroup_dir_.reset();
  }
  netns_.reset();
  return "";
}

// What was enforced, and by what.
void Attempt::describe_enforcement() {
  const Cgroup& cgroup = *cgroup_;
  const std::string cg = cgroup.mode_name();
  auto& e = r_.enforced;
  e["memory"] = cgroup.has_memory() ? cg : "rlimit (per process, RLIMIT_DATA)";
  e["pids"] = cgroup.has_pids()    ? cg
              : go_.pids_by_rlimit ? "rlimit (RLIMIT_NPROC in the box's user namespace)"
                                   : "not enforced";
  e["cpu_time"] = cgroup.has_cpu() ? cg + " + rlimit" : "rlimit (per process)";
  e["wall_time"] = "timer";
  e["output"] = "supervisor";
  e["file_size"] = "rlimit";
  e["open_files"] = "rlimit";
  e["seccomp"] = "seccomp-bpf";
  e["no_new_privs"] = "prctl";
  const bool ns = namespaces();
  e["namespaces"] = !ns ? "not enforced"
                    : isolation_ == Isolation::UserNamespaces
                        ? "user, pid, mount, net, ipc, uts, cgroup"
                        : "pid, mount, net, ipc, uts, cgroup";
  e["filesystem"] = ns ? "pivot_root" : "not enforced";
  e["disk"] = ns ? "tmpfs size and inode caps" : "not enforced (no mount namespace)";
  e["network"] =
      ns ? (p_.network == Network::Loopback ? "netns (loopback only)" : "netns (no interfaces)")
         : "not enforced";
  e["user"] = ns || geteuid() == 0 ? "uid " + std::to_string(kBoxId) : "not enforced";
  if (cgroup.mode() == Cgroup::Mode::None)
    r_.warnings.push_back("no cgroup (" + cgroup.why_none() +
                          "): memory and CPU limits fall back to per-process rlimits" +
                          (go_.pids_by_rlimit ? ", processes to RLIMIT_NPROC"
                                              : "; the process limit is not enforced"));
  if (!ns)
    r_.warnings.push_back("no namespaces (" + why_weaker_ +
                          "): the program sees the host's files and network");
}

// Copy output with a cap, watch the clocks, wait for init's report.
void Attempt::supervise() {
  control_open_ = namespaces();
  // With a cgroup to vouch that the box is empty, init's own exit (tearing down its
  // namespaces) need not be waited for here: it overlaps the measuring and clean-up below.
  const bool cgroup_vouches = namespaces() && cgroup_->mode() != Cgroup::Mode::None;
  const double wall_limit = p_.effective_wall_time();
  while (out_.open() || err_.open() || channel_.open() || (control_open_ && !report_) ||
         (!child_done_ && !cgroup_vouches)) {
    const double left = wall_limit - elapsed();
    if ((report_ || killed_wall_ || killed_cpu_ || killed_output_) && !ended_at_)
      ended_at_ = elapsed();
    // Without a pid namespace a daemon may keep the pipes open: give up on it after a grace.
    if (ended_at_ && elapsed() - *ended_at_ > 1.0 && child_done_) break;
    watch_limits(left);
    if (!wait_for_events(left)) break;
    if (!child_done_) reap(WNOHANG);
  }
  r_.wall_seconds = elapsed();
  if (!namespaces()) report_ = ExitReport{child_status_, child_usage_};
}

void Attempt::watch_limits(double left) {
  // A runner that ended without a report (its zygote was killed, say): the program cannot be
  // vouched for; the run is done again cold (run()).
  if (runner_gone_at_ && !report_ && warm_error_.empty() && elapsed() - *runner_gone_at_ > 0.5) {
    warm_error_ = "the zygote's runner ended without reporting the program's end";
    kill_everything();
  }
  if (left <= 0 && !killed_wall_ && !report_) {
    killed_wall_ = true;
    kill_everything();
  }
  if (cgroup_->has_cpu() && !killed_cpu_ && !report_ && cgroup_->cpu_seconds() > p_.cpu_time) {
    killed_cpu_ = true;
    kill_everything();
  }
}

void Attempt::reap(int flags) {
  if (wait4(child_, &child_status_, flags, &child_usage_) == child_) child_done_ = true;
}

bool Attempt::wait_for_events(double left) {
  pollfd fds[6];
  int n = 0;
  if (out_.open()) fds[n++] = {out_.pipe.get(), POLLIN, 0};
  if (err_.open()) fds[n++] = {err_.pipe.get(), POLLIN, 0};
  if (channel_.open()) fds[n++] = {channel_.pipe.get(), POLLIN, 0};
  if (control_open_) fds[n++] = {control_parent_.get(), POLLIN, 0};
  if (warm_sent_ && warm_.on()) fds[n++] = {warm_.zygote.get(), POLLIN, 0};
  const int streams = n;
  // The child's pidfd becomes readable when it exits: no polling for the end of the run.
  if (!child_done_ && child_fd_.get() >= 0) fds[n++] = {child_fd_.get(), POLLIN, 0};
  // Short ticks while there is a CPU limit to watch; otherwise sleep until the wall limit.
  const int tick = cgroup_->has_cpu() ? 50 : 1000;
  const int timeout =
      left > 0 ? std::min<int>(tick, static_cast<int>(std::ceil(left * 1000))) : tick;
  if (!child_done_ && n == 0) {
    // Nothing left to read and no pidfd (a kernel before 5.3): look for the child's end.
    reap(WNOHANG);
    if (!child_done_) usleep(static_cast<useconds_t>(std::min(timeout, 1) * 1000));
    return true;
  }
  int ready = poll(fds, static_cast<nfds_t>(n), timeout);
  if (ready < 0 && errno != EINTR) return false;
  for (int i = 0; i < streams && ready > 0; ++i) {
    if (!fds[i].revents) continue;
    if (out_.open() && fds[i].fd == out_.pipe.get()) {
      drain(out_);
    } else if (err_.open() && fds[i].fd == err_.pipe.get()) {
      drain(err_);
    } else if (channel_.open() && fds[i].fd == channel_.pipe.get()) {
      drain_channel();
    } else if (warm_.on() && fds[i].fd == warm_.zygote.get()) {
      char ignored[64];
      if (recv(warm_.zygote.get(), ignored, sizeof ignored, MSG_DONTWAIT) <= 0) {
        warm_.zygote.reset();
        runner_gone_at_ = elapsed();
      }
    } else if (control_open_ && fds[i].fd == control_parent_.get()) {
      on_control_message();
    }
  }
  return true;
}

void Attempt::drain(Capture& c) {
  ssize_t n = read(c.pipe.get(), buf_.data(), buf_.size());
  if (n <= 0) {
    c.pipe.reset();
    return;
  }
  c.bytes += static_cast<uint64_t>(n);
  uint64_t room = total_ < p_.output ? p_.output - total_ : 0;
  uint64_t keep = std::min<uint64_t>(room, static_cast<uint64_t>(n));
  if (c.file.get() >= 0 && keep) (void)!write(c.file.get(), buf_.data(), keep);
  total_ += static_cast<uint64_t>(n);
  if (total_ > p_.output && !killed_output_) {
    killed_output_ = true;
    r_.truncated = true;
    kill_everything();
  }
}

void Attempt::drain_channel() {
  ssize_t n = read(channel_.pipe.get(), buf_.data(), buf_.size());
  if (n <= 0) {
    channel_.pipe.reset();
    return;
  }
  uint64_t room = channel_.bytes < p_.channel_size ? p_.channel_size - channel_.bytes : 0;
  uint64_t keep = std::min<uint64_t>(room, static_cast<uint64_t>(n));
  if (channel_.file.get() >= 0 && keep) (void)!write(channel_.file.get(), buf_.data(), keep);
  channel_.bytes += static_cast<uint64_t>(n);
}

void Attempt::on_control_message() {
  char msg[512];
  ReceivedFds received;
  ssize_t len = receive_with_fds(control_parent_.get(), msg, sizeof msg, received.fds);
  if (len <= 0) {
    control_open_ = false;
  } else if (msg[0] == kMsgVolumes && volume_roots_.fds.empty()) {
    std::swap(volume_roots_.fds, received.fds);
  } else if (msg[0] == kMsgExit && static_cast<size_t>(len) == 1 + sizeof(ExitReport)) {
    ExitReport rep;
    std::memcpy(&rep, msg + 1, sizeof rep);
    report_ = rep;
    // The program is done: end the box now, so nothing it left keeps running. Init leaves by
    // itself, and with it the pid namespace; one round of SIGKILL suffices.
    kill(child_, SIGKILL);
    cgroup_->kill_all(false);
  } else if (msg[0] == kMsgReady && warm_.on() && !warm_sent_) {
    if (std::string e = start_warm(); !e.empty()) {
      warm_error_ = e;
      kill_everything();
    }
  } else if (msg[0] == kMsgSetupError) {
    setup_error_.assign(msg + 1, static_cast<size_t>(len - 1));
  } else if (msg[0] == kMsgExecError) {
    exec_error_.assign(msg + 1, static_cast<size_t>(len - 1));
  }
}

// Warm: once init says the box is built, the zygote's runner joins it with the program's
// descriptors and forks the program into it; it reports the program's end as init would.
std::string Attempt::start_warm() {
  warm_sent_ = true;
  std::string error;
  std::vector<Fd> box_ns = box_namespaces(child_, error);
  if (!error.empty()) return error;
  WarmFds fds;
  for (const auto& ns : box_ns) fds.namespaces.push_back(ns.get());
  fds.control = warm_control_.get();
  fds.stdin_fd = warm_stdin_.get();
  fds.stdout_fd = warm_out_.get();
  fds.stderr_fd = warm_err_.get();
  fds.channel = warm_channel_.get();
  for (const auto& f : join_files_) fds.cgroup_join.push_back(f.get());
  fds.cgroup_dir = cgroup_dir_.get();
  WarmFlags flags{go_.memory_by_rlimit, go_.pids_by_rlimit, go_.cpu_by_rlimit};
  error = send_warm_request(warm_.zygote.get(), p_, flags, fds);
  for (Fd* f : {&warm_control_, &warm_stdin_, &warm_out_, &warm_err_, &warm_channel_, &cgroup_dir_})
    f->reset();
  join_files_.clear();
  if (error.empty()) r_.start = "warm";
  return error;
}

// Nothing of the box may be left: then measure, and remove the cgroup.
void Attempt::measure_and_clean_up() {
  Cgroup& cgroup = *cgroup_;
  cgroup.kill_all();
  r_.stdout_bytes = out_.bytes;
  r_.stderr_bytes = err_.bytes;
  r_.channel_bytes = channel_.bytes;
  const struct rusage* usage = report_ ? &report_->usage : &child_usage_;
  double rusage_cpu = static_cast<double>(usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) +
                      static_cast<double>(usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1e6;
  r_.cpu_seconds = cgroup.has_cpu() ? cgroup.cpu_seconds() : rusage_cpu;
  r_.peak_memory_bytes =
      cgroup.has_memory() ? cgroup.peak_memory() : static_cast<uint64_t>(usage->ru_maxrss) * 1024;
  oom_ = cgroup.oom_killed();
  pids_hit_ = cgroup.pids_limit_hit();
  cgroup.destroy();
  if (!child_done_) reap(0);
  child_done_ = true;  // never signalled again: its pid may be another process's now
}

// Every process of the box is gone: what its tmpfs hold can be read without a race.
void Attempt::collect_volumes() {
  if (namespaces()) {
    // A warm attempt that failed is done again cold, and a box whose set-up failed again
    // without namespaces (run()), into the same collect folders: the failed attempt's
    // outputs, which nothing vouches for, stay in the box.
    r_.volumes = finish_volumes(p_, volume_roots_.fds, collect_error_,
                                warm_error_.empty() && setup_error_.empty());
    return;
  }
  for (const auto& t : p_.tmpfs) {
    VolumeResult v;
    v.dst = t.dst;
    v.size = t.size;
    v.inodes = t.inodes;
    v.notes = {"not capped: a host folder (no mount namespace)"};
    r_.volumes.push_back(std::move(v));
  }
}

std::string Attempt::failure() const {
  if (!warm_error_.empty()) return kWarmFailed + warm_error_;
  if (!setup_error_.empty()) return "box setup: " + setup_error_;
  if (!exec_error_.empty()) return exec_error_;
  if (!collect_error_.empty()) return collect_error_;
  if (!report_ && !killed_output_ && !killed_wall_ && !killed_cpu_)
    return "init died without a report";
  return "";
}

void Attempt::judge() {
  Ending e;
  if (report_ && WIFEXITED(report_->status)) e.exit_code = WEXITSTATUS(report_->status);
  if (report_ && WIFSIGNALED(report_->status)) e.signal = WTERMSIG(report_->status);
  r_.exit_code = e.exit_code;
  r_.signal = e.signal;
  e.killed_output = killed_output_;
  e.killed_wall = killed_wall_;
  e.killed_cpu = killed_cpu_;
  e.oom = oom_;
  e.pids_hit = pids_hit_;
  e.cpu_seconds = r_.cpu_seconds;
  e.cpu_limit = p_.cpu_time;
  e.cpu_by_rlimit = go_.cpu_by_rlimit;
  for (const auto& v : r_.volumes)
    if (!v.full.empty()) e.full_volumes.push_back(v.full);
  const Judgement j = decide_verdict(e);
  r_.verdict = j.verdict;
  if (!j.limit_reason.empty()) r_.limit_reason = j.limit_reason;
}

Result run_once(const Policy& p, const RunOptions& options, std::string without_namespaces) {
  return Attempt(p, options, std::move(without_namespaces)).run();
}

}  // namespace

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
