#include "sandbox/verdict.h"

#include <cmath>
#include <csignal>

namespace sandbox {
namespace {

// Whether the CPU limit ended a program that died of a signal.
bool cpu_limit_killed(const Ending& e) {
  if (!e.signal) return false;
  if (*e.signal == SIGXCPU) return true;
  // RLIMIT_CPU kills at whole seconds with SIGKILL (soft = hard), and rusage samples in ticks,
  // so a process it killed may show a little less CPU than the limit. With a CPU cgroup the
  // rlimit is one second above the limit, as a backstop.
  const double rlimit_cpu = std::ceil(e.cpu_limit) + (e.cpu_by_rlimit ? 0 : 1);
  const bool killed_by_rlimit = *e.signal == SIGKILL && e.cpu_seconds >= 0.9 * rlimit_cpu;
  return killed_by_rlimit || e.cpu_seconds >= e.cpu_limit - 0.02;
}

Judgement how_it_ended(const Ending& e) {
  if (e.killed_output) return {Verdict::OutputLimit, ""};
  // A fork or thread bomb usually ends on a clock; the process limit is the real story.
  if (e.pids_hit && !(e.exit_code && *e.exit_code == 0)) return {Verdict::ProcessLimit, ""};
  if (e.killed_wall) return {Verdict::TimeLimit, "wall"};
  if (e.killed_cpu || cpu_limit_killed(e)) return {Verdict::TimeLimit, "cpu"};
  if (e.oom) return {Verdict::MemoryLimit, ""};
  if (e.signal) return {Verdict::Signaled, ""};
  if (e.exit_code && *e.exit_code != 0) return {Verdict::NonzeroExit, ""};
  return {Verdict::Ok, ""};
}

}  // namespace

Judgement decide_verdict(const Ending& e) {
  Judgement j = how_it_ended(e);
  const bool plain_end = j.verdict == Verdict::Ok || j.verdict == Verdict::NonzeroExit ||
                         j.verdict == Verdict::Signaled;
  if (plain_end && !e.full_volumes.empty()) j = {Verdict::OutputLimit, e.full_volumes.front()};
  return j;
}

}  // namespace sandbox
