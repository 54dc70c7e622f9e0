// The verdict of a run, decided from what the supervisor saw from outside the box. Pure: no
// process, file or clock, so every rule has a row in a table test (tests/test_verdict.cc).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sandbox/result.h"

namespace sandbox {

// How a run ended.
struct Ending {
  bool killed_output = false;             // the supervisor ended it: stdout and stderr over the cap
  bool killed_wall = false;               // ... past the wall-clock limit
  bool killed_cpu = false;                // ... past the CPU limit by the cgroup's count
  bool oom = false;                       // the memory cgroup's OOM killer acted
  bool pids_hit = false;                  // the pids cgroup refused a fork
  std::optional<int> exit_code, signal;   // the program's end, as init reported it
  double cpu_seconds = 0;                 // measured
  double cpu_limit = 0;                   // the policy's
  bool cpu_by_rlimit = false;             // no CPU cgroup: RLIMIT_CPU alone was the limit
  std::vector<std::string> full_volumes;  // each tmpfs that filled: "disk" or "inodes"
};

struct Judgement {
  Verdict verdict = Verdict::Ok;
  std::string limit_reason;  // "cpu" or "wall" for TimeLimit; "disk" or "inodes" for a volume
};

// The first that applies: output cap, process limit (unless the program still exited 0), wall
// clock, CPU, memory, signal, exit status; then a full tmpfs turns a plain end (ok, nonzero
// exit, signal) into an output limit, since the program's failure to write is its story.
Judgement decide_verdict(const Ending& e);

}  // namespace sandbox
