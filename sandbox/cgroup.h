// A fresh cgroup per run: v2 where its controllers are delegated to us, v1 where the
// controllers are mounted and writable (Debian hybrid hosts), otherwise none (rlimits only).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sandbox {

struct CgroupMount;

class Cgroup {
 public:
  enum class Mode { None, V1, V2 };

  // Creates the run's cgroup with memory (swap 0) and pids limits. Never throws: when no
  // cgroup can be had, mode() is None and why_none() says why.
  static Cgroup create(uint64_t memory_bytes, uint64_t pids);

  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&&) = delete;
  Cgroup(const Cgroup&) = delete;
  ~Cgroup();  // destroy(), unless done already

  Mode mode() const { return mode_; }
  const char* mode_name() const;
  const std::string& why_none() const { return why_none_; }
  bool has_memory() const { return !memory_dir_.empty(); }
  bool has_pids() const { return !pids_dir_.empty(); }
  bool has_cpu() const { return !cpu_dir_.empty(); }

  // No process is ever moved in from outside: that takes a global kernel lock and waits for
  // RCU (13 ms on v1 here, 7.5 ms on cgroup2). Instead:
  // v1 only: the files a process's single thread writes "0" to, to join by itself. A thread
  // joining itself skips that global lock (0.3 ms here). Empty on v2 and without a cgroup.
  std::vector<std::string> self_join_files() const;
  // v2 only: the cgroup's folder, for a child born inside it (fork_into_cgroup). Moving a
  // process in afterwards takes the same global lock as on v1 (7.5 ms here); birth does not.
  std::string v2_dir() const { return mode_ == Mode::V2 ? memory_dir_ : ""; }
  double cpu_seconds() const;
  uint64_t peak_memory() const;
  bool oom_killed() const;
  bool pids_limit_hit() const;
  // SIGKILL to every process in the cgroup, until it is empty or (until_empty false) once.
  void kill_all(bool until_empty = true) const;
  // Kills what is left and removes the cgroup; mode() is None afterwards.
  void destroy();

 private:
  Cgroup() = default;
  bool make_v2(const std::string& point, const std::string& ours, const std::string& name,
               uint64_t memory_bytes, uint64_t pids);
  void make_v1(const std::vector<CgroupMount>& mounts,
               const std::map<std::string, std::string, std::less<>>& own, const std::string& name,
               uint64_t memory_bytes, uint64_t pids);
  void remove();
  // The folder whose cgroup.procs lists the run's processes (all hierarchies hold the same).
  const std::string& procs_dir() const;
  // Each folder once (on v2 the three are one).
  std::set<std::string> dirs() const;

  Mode mode_ = Mode::None;
  std::string why_none_;
  // One folder per controller in v1; the same folder three times in v2.
  std::string memory_dir_, pids_dir_, cpu_dir_;
};

// A mounted cgroup hierarchy: v2, or v1 with its controllers.
struct CgroupMount {
  std::string point;
  std::set<std::string, std::less<>> controllers;  // empty for cgroup2
  bool v2 = false;
};
// From /proc/self/mountinfo: every cgroup mount.
std::vector<CgroupMount> cgroup_mounts_from_mountinfo();
// The usual places (/sys/fs/cgroup, its unified, memory, pids and cpuacct), checked with statfs:
// a fifth of the cost. Empty when the layout is not the usual one.
std::vector<CgroupMount> usual_cgroup_mounts();

// Removes the cgroups of runs whose supervisor is gone (killed with SIGKILL, by the OOM
// killer, with its batch): folders "grader-sandbox-<pid>-<n>" where this process's runs would
// make theirs, whose <pid> no longer exists. A live supervisor's pid exists, so this is safe
// beside running boxes (a reused pid only delays the removal). Returns how many went;
// `failures` gets "folder: why" for each that would not.
int remove_stale_cgroups(std::vector<std::string>& failures);

// fork(), with the child born in the cgroup v2 folder `cgroup_dir_fd` (clone3 with
// CLONE_INTO_CGROUP, Linux 5.7+). Returns as fork() does; -1 with errno when the kernel or a
// seccomp profile refuses clone3 (ENOSYS, EINVAL, E2BIG, EPERM...): then fork and join.
pid_t fork_into_cgroup(int cgroup_dir_fd);

}  // namespace sandbox
