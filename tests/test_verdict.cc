// The verdict's rules, one row each (sandbox/verdict.h): no process is started.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "sandbox/verdict.h"

namespace {

using sandbox::Ending;
using sandbox::Verdict;

struct Row {
  std::string name;
  Ending ending;
  Verdict verdict;
  std::string reason;
};

Ending exited(int code, double cpu = 0.1) {
  Ending e;
  e.exit_code = code;
  e.cpu_seconds = cpu;
  e.cpu_limit = 2.0;
  return e;
}

Ending signalled(int sig, double cpu = 0.1, bool cpu_by_rlimit = false) {
  Ending e;
  e.signal = sig;
  e.cpu_seconds = cpu;
  e.cpu_limit = 2.0;
  e.cpu_by_rlimit = cpu_by_rlimit;
  return e;
}

template <typename F>
Ending with(Ending e, F change) {
  change(e);
  return e;
}

std::vector<Row> rows() {
  return {
      {"exit 0", exited(0), Verdict::Ok, ""},
      {"exit 3", exited(3), Verdict::NonzeroExit, ""},
      {"a segfault", signalled(SIGSEGV), Verdict::Signaled, ""},
      {"SIGKILL far below the CPU limit", signalled(SIGKILL, 0.5), Verdict::Signaled, ""},
      {"output over the cap, though the OOM killer acted too",
       with(signalled(SIGKILL), [](Ending& e) { e.killed_output = e.oom = true; }),
       Verdict::OutputLimit, ""},
      {"a refused fork, then exit 1", with(exited(1), [](Ending& e) { e.pids_hit = true; }),
       Verdict::ProcessLimit, ""},
      {"a refused fork, yet exit 0", with(exited(0), [](Ending& e) { e.pids_hit = true; }),
       Verdict::Ok, ""},
      {"a fork bomb the wall clock ended",
       with(signalled(SIGKILL), [](Ending& e) { e.pids_hit = e.killed_wall = true; }),
       Verdict::ProcessLimit, ""},
      {"the wall clock", with(signalled(SIGKILL), [](Ending& e) { e.killed_wall = true; }),
       Verdict::TimeLimit, "wall"},
      {"the CPU cgroup's count",
       with(signalled(SIGKILL, 2.05), [](Ending& e) { e.killed_cpu = true; }), Verdict::TimeLimit,
       "cpu"},
      {"SIGKILL at the CPU limit", signalled(SIGKILL, 1.99), Verdict::TimeLimit, "cpu"},
      {"SIGXCPU", signalled(SIGXCPU, 0.3), Verdict::TimeLimit, "cpu"},
      {"RLIMIT_CPU alone, rusage a tick short", signalled(SIGKILL, 1.85, true), Verdict::TimeLimit,
       "cpu"},
      {"RLIMIT_CPU alone, well short", signalled(SIGKILL, 1.5, true), Verdict::Signaled, ""},
      {"exit 0 at the CPU limit (no signal)", exited(0, 2.0), Verdict::Ok, ""},
      {"the OOM killer", with(signalled(SIGKILL), [](Ending& e) { e.oom = true; }),
       Verdict::MemoryLimit, ""},
      {"the OOM killer, yet exit 0", with(exited(0), [](Ending& e) { e.oom = true; }),
       Verdict::MemoryLimit, ""},
      {"a full tmpfs, then exit 1", with(exited(1), [](Ending& e) { e.full_volumes = {"disk"}; }),
       Verdict::OutputLimit, "disk"},
      {"two full tmpfs: the first is named",
       with(exited(0),
            [](Ending& e) {
              e.full_volumes = {"inodes", "disk"};
            }),
       Verdict::OutputLimit, "inodes"},
      {"a full tmpfs, then a segfault",
       with(signalled(SIGSEGV), [](Ending& e) { e.full_volumes = {"disk"}; }), Verdict::OutputLimit,
       "disk"},
      {"a full tmpfs does not hide the wall clock",
       with(signalled(SIGKILL),
            [](Ending& e) {
              e.killed_wall = true;
              e.full_volumes = {"disk"};
            }),
       Verdict::TimeLimit, "wall"},
      {"no report at all (killed by the supervisor first)",
       with(Ending{}, [](Ending& e) { e.killed_wall = true; }), Verdict::TimeLimit, "wall"},
  };
}

TEST(Verdict, EachRuleOfTheTable) {
  for (const Row& row : rows()) {
    const sandbox::Judgement j = sandbox::decide_verdict(row.ending);
    EXPECT_EQ(sandbox::to_string(j.verdict), std::string(sandbox::to_string(row.verdict)))
        << row.name;
    EXPECT_EQ(j.limit_reason, row.reason) << row.name;
  }
}

}  // namespace
