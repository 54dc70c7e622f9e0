#include "sandbox/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string_view>
#include <thread>

namespace sandbox {
namespace {

bool write_file(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Small kernel files, read with plain system calls: streams cost more than the reading here.
std::string read_file(const std::string& path) {
  std::string text;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

// Splits at `sep`, skipping empty pieces.
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    size_t end = text.find(sep);
    std::string_view part = text.substr(0, end);
    if (!part.empty()) parts.push_back(part);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return parts;
}

// Words separated by blanks or line ends.
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  for (std::string_view line : split(text, '\n'))
    for (std::string_view w : split(line, ' ')) out.push_back(w);
  return out;
}

uint64_t read_number(const std::string& path) {
  std::string text = read_file(path);
  return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
}

// Value of "key N" in a flat keyed file such as memory.events or cpu.stat.
uint64_t read_key(const std::string& path, std::string_view key) {
  std::string text = read_file(path);
  for (std::string_view line : split(text, '\n')) {
    auto w = split(line, ' ');
    if (w.size() == 2 && w[0] == key) return std::strtoull(std::string(w[1]).c_str(), nullptr, 10);
  }
  return 0;
}

// Mount points in /proc/self/mountinfo write a space, tab, newline or backslash as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    auto digit = [&](size_t k) { return field[k] >= '0' && field[k] <= '7'; };
    if (field[i] == '\\' && i + 3 < field.size() && digit(i + 1) && digit(i + 2) && digit(i + 3)) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += field[i];
  }
  return out;
}

}  // namespace

std::vector<CgroupMount> cgroup_mounts_from_mountinfo() {
  std::vector<CgroupMount> mounts;
  const std::string text = read_file("/proc/self/mountinfo");
  for (std::string_view line : split(text, '\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    auto f = split(line, ' ');
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 3 >= f.size()) continue;
    std::string_view fstype = f[dash + 1];
    if (fstype == "cgroup2") {
      mounts.push_back({unescape(f[4]), {}, true});
    } else if (fstype == "cgroup") {
      CgroupMount m{unescape(f[4]), {}, false};
      for (std::string_view opt : split(f[dash + 3], ',')) m.controllers.emplace(opt);
      mounts.push_back(std::move(m));
    }
  }
  return mounts;
}

// Where systemd and most distributions mount cgroups. Checking these few paths with statfs
// costs a fifth of reading and parsing /proc/self/mountinfo (0.03 ms against 0.17 ms here).
// Empty when the layout is not the usual one: the caller then reads mountinfo. (Create
// checks what it finds: a limit file that is missing makes that controller unenforced.)
std::vector<CgroupMount> usual_cgroup_mounts() {
  struct statfs st {};
  if (statfs("/sys/fs/cgroup", &st) != 0) return {};
  if (st.f_type == CGROUP2_SUPER_MAGIC) return {{"/sys/fs/cgroup", {}, true}};
  if (st.f_type != TMPFS_MAGIC) return {};
  std::vector<CgroupMount> mounts;
  if (statfs("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    mounts.push_back({"/sys/fs/cgroup/unified", {}, true});
  for (const char* controller : {"memory", "pids", "cpuacct"}) {
    std::string point = std::string("/sys/fs/cgroup/") + controller;
    if (statfs(point.c_str(), &st) != 0 || st.f_type != CGROUP_SUPER_MAGIC) return {};
    mounts.push_back({point, {controller}, false});
  }
  return mounts;
}

namespace {

// Our own cgroup paths, from /proc/self/cgroup: per v1 controller, and for v2 (key "").
std::map<std::string, std::string, std::less<>> own_paths() {
  std::map<std::string, std::string, std::less<>> paths;
  const std::string text = read_file("/proc/self/cgroup");
  for (std::string_view line : split(text, '\n')) {
    // hierarchy-id:controller-list:path
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string path(line.substr(b + 1));
    std::string_view list = line.substr(a + 1, b - a - 1);
    if (list.empty() && line.substr(0, a) == "0") paths[""] = path;
    for (std::string_view c : split(list, ',')) paths[std::string(c)] = path;
  }
  return paths;
}

std::string unique_name() {
  std::random_device rd;
  return "grader-sandbox-" + std::to_string(getpid()) + "-" + std::to_string(rd());
}

std::string make_child(const std::string& parent, const std::string& name) {
  std::string dir = parent + "/" + name;
  if (mkdir(dir.c_str(), 0755) != 0) return "";
  return dir;
}

bool has_all(const std::string& list_file, std::initializer_list<std::string_view> names) {
  const std::string text = read_file(list_file);
  const auto have = words(text);
  for (std::string_view n : names)
    if (std::find(have.begin(), have.end(), n) == have.end()) return false;
  return true;
}

// Our cgroup `dir` holds processes, so the kernel refuses to let it hand controllers on ("no
// internal processes": EBUSY), and its parent is not ours to make a cgroup in; but `dir`
// itself is (delegated to us, as systemd's Delegate=yes does for a service with User=). Do
// what systemd's delegation rules ask of the delegatee: move the processes of `dir` into a leaf
// child, then enable memory and pids in `dir`. Moving takes the kernel's global lock for each
// process, once: later runs start in the leaf, and their cgroup goes beside it.
bool vacate_into_leaf(const std::string& dir) {
  const std::string leaf = dir + "/grader-processes";
  if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return false;
  for (int round = 0; round < 20; ++round) {  // a process may fork while we move the others
    const std::string text = read_file(dir + "/cgroup.procs");
    for (std::string_view pid : words(text)) write_file(leaf + "/cgroup.procs", std::string(pid));
    if (write_file(dir + "/cgroup.subtree_control", "+memory +pids")) {
      write_file(dir + "/cgroup.subtree_control", "+cpu");  // optional: cpu.stat exists anyway
      return true;
    }
    if (errno != EBUSY) return false;
  }
  return false;
}

}  // namespace

namespace {

std::string own_path(const std::map<std::string, std::string, std::less<>>& own,
                     const std::string& controller) {
  auto it = own.find(controller);
  return it == own.end() ? std::string() : it->second;
}

}  // namespace

Cgroup Cgroup::create(uint64_t memory_bytes, uint64_t pids) {
  Cgroup cg;
  auto mounts = usual_cgroup_mounts();
  if (mounts.empty()) mounts = cgroup_mounts_from_mountinfo();
  const auto own = own_paths();
  const std::string name = unique_name();
  // v2 first: the unified hierarchy with memory and pids available to our cgroup.
  for (const auto& m : mounts)
    if (m.v2 && cg.make_v2(m.point, own_path(own, ""), name, memory_bytes, pids)) return cg;
  cg.make_v1(mounts, own, name, memory_bytes, pids);
  return cg;
}

// The run's cgroup under the cgroup2 mount at `point`, where our cgroup is `ours`: true when
// made, with its limits; otherwise why_none_ says why.
bool Cgroup::make_v2(const std::string& point, const std::string& ours, const std::string& name,
                     uint64_t memory_bytes, uint64_t pids) {
  std::string base = ours == "/" ? point : point + ours;
  if (!has_all(base + "/cgroup.controllers", {"memory", "pids"})) {
    why_none_ = "cgroup v2 at " + base + " has no memory and pids controllers";
    return false;
  }
  std::string parent = base;  // where the run's cgroup goes
  if (!has_all(base + "/cgroup.subtree_control", {"memory", "pids"}) &&
      !write_file(base + "/cgroup.subtree_control", "+memory +pids")) {
    // A cgroup that holds processes (ours holds the grader, maybe a login shell) may not
    // hand controllers on to children: "no internal processes", EBUSY. Its parent already
    // does, or ours would not have them: the run's cgroup then becomes a sibling of ours,
    // where root, or a user in a delegated subtree (systemd's user@.service), may make one.
    // (Run on cgroup v2 by tests/vm.)
    const int why = errno;
    if (why != EBUSY || ours.empty() || ours == "/") {
      why_none_ = "cannot enable memory and pids controllers in " + base +
                  "/cgroup.subtree_control (" + std::strerror(why) +
                  "); start grader in a delegated cgroup of its own, e.g. "
                  "'systemd-run --user --scope -p Delegate=yes grader ...'";
      return false;
    }
    parent = base.substr(0, base.rfind('/'));
  } else {
    write_file(base + "/cgroup.subtree_control", "+cpu");  // optional: cpu.stat exists anyway
  }
  std::string dir = make_child(parent, name);
  if (dir.empty() && (errno == EACCES || errno == EPERM) && parent != base &&
      vacate_into_leaf(base)) {
    parent = base;
    dir = make_child(parent, name);
  }
  if (dir.empty()) {
    why_none_ = "cannot create a cgroup in " + parent + ": " + std::strerror(errno);
    return false;
  }
  mode_ = Mode::V2;
  memory_dir_ = pids_dir_ = cpu_dir_ = dir;
  if (!write_file(dir + "/memory.max", std::to_string(memory_bytes)) ||
      !write_file(dir + "/pids.max", std::to_string(pids))) {
    why_none_ = "cannot set limits in " + dir;
    remove();
    mode_ = Mode::None;
    return false;
  }
  write_file(dir + "/memory.swap.max", "0");
  write_file(dir + "/memory.oom.group", "1");
  return true;
}

// v1: one hierarchy per controller, each set up where it can be.
void Cgroup::make_v1(const std::vector<CgroupMount>& mounts,
                     const std::map<std::string, std::string, std::less<>>& own,
                     const std::string& name, uint64_t memory_bytes, uint64_t pids) {
  auto v1_dir = [&](const std::string& controller) -> std::string {
    for (const auto& m : mounts)
      if (!m.v2 && m.controllers.count(controller))
        return make_child(m.point + own_path(own, controller), name);
    return "";
  };
  memory_dir_ = v1_dir("memory");
  pids_dir_ = v1_dir("pids");
  cpu_dir_ = v1_dir("cpuacct");
  if (memory_dir_.empty() && pids_dir_.empty() && cpu_dir_.empty()) {
    const int why = errno;
    if (why_none_.empty()) why_none_ = "no writable cgroup hierarchy";
    if (std::any_of(mounts.begin(), mounts.end(), [](const CgroupMount& m) { return !m.v2; }))
      why_none_ += std::string("; cgroup v1: ") + std::strerror(why);
    return;
  }
  mode_ = Mode::V1;
  if (!memory_dir_.empty()) {
    write_file(memory_dir_ + "/memory.swappiness", "0");
    if (!write_file(memory_dir_ + "/memory.limit_in_bytes", std::to_string(memory_bytes))) {
      rmdir(memory_dir_.c_str());
      memory_dir_.clear();
    } else {
      write_file(memory_dir_ + "/memory.memsw.limit_in_bytes", std::to_string(memory_bytes));
    }
  }
  if (!pids_dir_.empty() && !write_file(pids_dir_ + "/pids.max", std::to_string(pids))) {
    rmdir(pids_dir_.c_str());
    pids_dir_.clear();
  }
  if (!cpu_dir_.empty() && access((cpu_dir_ + "/cpuacct.usage").c_str(), R_OK) != 0) {
    rmdir(cpu_dir_.c_str());
    cpu_dir_.clear();
  }
  if (memory_dir_.empty() && pids_dir_.empty() && cpu_dir_.empty()) {
    mode_ = Mode::None;
    why_none_ = "cgroup v1: no memory, pids or cpuacct controller could be set up";
  }
}

Cgroup::Cgroup(Cgroup&& o) noexcept
    : mode_(o.mode_),
      why_none_(std::move(o.why_none_)),
      memory_dir_(std::move(o.memory_dir_)),
      pids_dir_(std::move(o.pids_dir_)),
      cpu_dir_(std::move(o.cpu_dir_)) {
  o.mode_ = Mode::None;
  o.memory_dir_.clear();
  o.pids_dir_.clear();
  o.cpu_dir_.clear();
}

Cgroup::~Cgroup() { destroy(); }

void Cgroup::destroy() {
  if (mode_ == Mode::None) return;
  kill_all();
  remove();
  mode_ = Mode::None;
  memory_dir_.clear();
  pids_dir_.clear();
  cpu_dir_.clear();
}

const std::string& Cgroup::procs_dir() const {
  return !pids_dir_.empty() ? pids_dir_ : !memory_dir_.empty() ? memory_dir_ : cpu_dir_;
}

const char* Cgroup::mode_name() const {
  switch (mode_) {
    case Mode::V1:
      return "cgroup v1";
    case Mode::V2:
      return "cgroup v2";
    case Mode::None:
      break;
  }
  return "none";
}

std::set<std::string> Cgroup::dirs() const {
  std::set<std::string> dirs = {memory_dir_, pids_dir_, cpu_dir_};
  dirs.erase("");
  return dirs;
}

std::vector<std::string> Cgroup::self_join_files() const {
  if (mode_ != Mode::V1) return {};
  std::vector<std::string> files;
  for (const auto& d : dirs()) files.push_back(d + "/tasks");
  return files;
}

pid_t fork_into_cgroup(int cgroup_dir_fd) {
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_dir_fd);
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
}

double Cgroup::cpu_seconds() const {
  if (cpu_dir_.empty()) return 0;
  if (mode_ == Mode::V2)
    return static_cast<double>(read_key(cpu_dir_ + "/cpu.stat", "usage_usec")) / 1e6;
  return static_cast<double>(read_number(cpu_dir_ + "/cpuacct.usage")) / 1e9;
}

uint64_t Cgroup::peak_memory() const {
  if (memory_dir_.empty()) return 0;
  if (mode_ == Mode::V2) {
    uint64_t peak = read_number(memory_dir_ + "/memory.peak");
    return peak ? peak : read_number(memory_dir_ + "/memory.current");
  }
  return read_number(memory_dir_ + "/memory.max_usage_in_bytes");
}

bool Cgroup::oom_killed() const {
  if (memory_dir_.empty()) return false;
  if (mode_ == Mode::V2) return read_key(memory_dir_ + "/memory.events", "oom_kill") > 0;
  return read_key(memory_dir_ + "/memory.oom_control", "oom_kill") > 0;
}

bool Cgroup::pids_limit_hit() const {
  if (pids_dir_.empty()) return false;
  return read_key(pids_dir_ + "/pids.events", "max") > 0;
}

void Cgroup::kill_all(bool until_empty) const {
  if (mode_ == Mode::None) return;
  if (mode_ == Mode::V2 && write_file(cpu_dir_ + "/cgroup.kill", "1")) return;
  // Killing races with forks: repeat until no process is left. The program joins every
  // hierarchy before it execs, so one list names them all.
  const std::string procs = procs_dir() + "/cgroup.procs";
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    const std::string text = read_file(procs);
    for (std::string_view pid : words(text)) {
      any = true;
      kill(static_cast<pid_t>(std::strtol(std::string(pid).c_str(), nullptr, 10)), SIGKILL);
    }
    if (!any || !until_empty) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

namespace {

// rmdir of a run's cgroup. Dying processes leave it a moment after SIGKILL, but a large one
// takes long to free its memory on a loaded machine (100 ms was not always enough: cgroups
// were left behind), so keep killing and trying for up to two seconds.
bool remove_cgroup_dir(const std::string& dir) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto pause = std::chrono::microseconds(200);
  while (rmdir(dir.c_str()) != 0) {
    if (errno == ENOENT) return true;
    if (errno != EBUSY || std::chrono::steady_clock::now() > give_up) return false;
    const std::string procs = read_file(dir + "/cgroup.procs");  // words() views into it
    for (std::string_view pid : words(procs))
      kill(static_cast<pid_t>(std::strtol(std::string(pid).c_str(), nullptr, 10)), SIGKILL);
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
}

constexpr std::string_view kRunPrefix = "grader-sandbox-";

// The pid in a run cgroup's name "grader-sandbox-<pid>-<n>", or 0.
pid_t supervisor_of(std::string_view name) {
  if (name.substr(0, kRunPrefix.size()) != kRunPrefix) return 0;
  name.remove_prefix(kRunPrefix.size());
  pid_t pid = 0;
  size_t i = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && pid < 100000000; ++i)
    pid = pid * 10 + (name[i] - '0');
  return i > 0 && i < name.size() && name[i] == '-' ? pid : 0;
}

}  // namespace

void Cgroup::remove() {
  for (const auto& d : dirs()) remove_cgroup_dir(d);
}

int remove_stale_cgroups(std::vector<std::string>& failures) {
  auto mounts = usual_cgroup_mounts();
  if (mounts.empty()) mounts = cgroup_mounts_from_mountinfo();
  const auto own = own_paths();
  // Where our runs' cgroups go: beside our own cgroup's children, and (v2) beside our cgroup.
  std::set<std::string> parents;
  for (const auto& m : mounts) {
    std::string controller;
    if (!m.v2) {
      for (const char* c : {"memory", "pids", "cpuacct"})
        if (m.controllers.count(c)) controller = c;
      if (controller.empty()) continue;
    }
    auto it = own.find(controller);
    if (it == own.end()) continue;
    std::string base = m.point + (it->second == "/" ? "" : it->second);
    parents.insert(base);
    if (m.v2 && base.size() > m.point.size()) parents.insert(base.substr(0, base.rfind('/')));
  }
  int removed = 0;
  for (const auto& parent : parents) {
    DIR* d = opendir(parent.c_str());
    if (!d) continue;
    std::vector<std::string> stale;
    while (dirent* e = readdir(d)) {
      pid_t pid = supervisor_of(e->d_name);
      // A supervisor that exists (or one we may not signal) is alive: never touch its run.
      if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) continue;
      stale.push_back(parent + "/" + e->d_name);
    }
    closedir(d);
    for (const auto& dir : stale) {
      if (remove_cgroup_dir(dir))
        ++removed;
      else
        failures.push_back(dir + ": " + std::strerror(errno));
    }
  }
  return removed;
}

}  // namespace sandbox
