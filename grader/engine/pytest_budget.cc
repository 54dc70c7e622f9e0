#include "grader/engine/pytest_budget.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "grader/engine/test_runs.h"

namespace grader {
namespace fs = std::filesystem;

namespace {

// Runs in the student's own box, so a student can defeat it; it never loosens a limit, so it
// keeps results a kill would have thrown away (and costs only a run that would have finished
// inside the margin of its limit its last case), and pytest's report from that box is
// self-reported anyway. Before each case it cuts that case's own wall limit (pytest-timeout's
// alarm) to the wall time the run has left, and puts a CPU timer (ITIMER_PROF: the process's
// CPU, all threads) on the test function for the CPU time left; when nearly nothing is left it
// reports the cases not run as failed (so the JUnit file counts them, whether or not the
// manifest gives `cases`) and stops the session. Wall time counts from the process's start
// (/proc/self/stat): the box's start for a cold run, the fork for a warm one. Not covered: the
// CPU of child processes still running, and threads a case leaves running.
// grader_pytest_budget.py, embedded at build time (grader/CMakeLists.txt).
#include "pytest_budget_plugin.inc"

std::optional<double> case_timeout_seconds(const Manifest& m, const TestSpec& t) {
  std::error_code ec;
  if (m.python.rfind("/usr/bin/python3", 0) != 0 ||
      !fs::exists("/usr/lib/python3/dist-packages/pytest_timeout.py", ec))
    return std::nullopt;
  // A quarter: two looping cases then spend half the CPU budget, and the other cases still
  // run (a quarter of the wall limit alone let two loops reach the CPU limit).
  const double tighter = std::min(t.limits.cpu_seconds(), t.limits.wall_seconds());
  return t.case_timeout.value_or(std::max(1.0, tighter / 4));
}

}  // namespace

std::optional<CaseLimits> case_limits(const Manifest& m, const TestSpec& t) {
  const std::optional<double> seconds = case_timeout_seconds(m, t);
  if (!seconds) return std::nullopt;
  CaseLimits limits;
  // "signal": SIGALRM in the test's own thread, so the traceback is the looping frame's.
  // (pytest loads pytest-timeout by its entry point; naming it with -p too registers it twice.)
  // --tb=native: pytest's own traceback renderer can fail on a frame the alarm interrupted
  // (an IndexError in get_source, an INTERNALERROR that ends the session at a random case).
  // A manifest's `args` come later and may choose another --tb.
  limits.args = {fmt::format("--timeout={:.6g}", *seconds), "--timeout-method=signal",
                 "--tb=native", "-p", kPytestPlugin};
  limits.budget = fmt::format("{:.6g},{:.6g}", t.limits.cpu_seconds(), t.limits.wall_seconds());
  return limits;
}

void write_pytest_plugin(const fs::path& grader_dir) {
  const fs::path dir = grader_dir / fs::path(kPytestPluginDir).filename();
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path file = dir / (std::string(kPytestPlugin) + ".py");
  std::ofstream out(file, std::ios::binary);
  out << kBudgetPlugin;
  out.close();
  if (ec || !out)
    throw InfrastructureError(fmt::format("cannot write the pytest plugin in {}", dir.string()));
  fs::permissions(dir, fs::perms(0755), ec);
  fs::permissions(file, fs::perms(0644), ec);
}

}  // namespace grader
