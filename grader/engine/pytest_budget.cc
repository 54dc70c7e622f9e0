#include "grader/engine/pytest_budget.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "grader/engine/test_runs.h"

namespace grader {
namespace fs = std::filesystem;

namespace {

// Runs in the student's own box, so a student can defeat it; it only ever keeps results a
// kill would have thrown away, and pytest's report from that box is self-reported anyway.
// CPU is this process's and its children's; wall time counts from the process's start
// (/proc/self/stat), which is the box's start for a cold run and the fork for a warm one.
constexpr const char* kBudgetPlugin =
    R"PY(# grader's pytest budget (written by grader/engine/pytest_budget.cc).
import os
import time

import pytest

_loaded = time.monotonic()


def pytest_addoption(parser):
    parser.addoption("--grader-budget", default="", help="case_seconds,cpu_seconds,wall_seconds")


def _wall_used():
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _loaded


def _cpu_used():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    spec = item.config.getoption("grader_budget")
    if not spec or nextitem is None:
        return
    case, cpu, wall = (float(x) for x in spec.split(","))
    margin = max(0.5, 0.05 * min(cpu, wall))
    if _cpu_used() + case + margin > cpu or _wall_used() + case + margin > wall:
        left = len(item.session.items) - item.session.items.index(item) - 1
        item.session.shouldstop = (
            f"grader stopped pytest with {left} case(s) not run: one more case running to its "
            f"own time limit ({case:g} s) could reach the run's limit ({cpu:g} s CPU, {wall:g} s "
            f"wall), which would lose every result; the cases not run count as failed")
)PY";

}  // namespace

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

std::vector<std::string> case_limit_args(const Manifest& m, const TestSpec& t) {
  const std::optional<double> seconds = case_timeout_seconds(m, t);
  if (!seconds) return {};
  // "signal": SIGALRM in the test's own thread, so the traceback is the looping frame's.
  // (pytest loads pytest-timeout by its entry point; naming it with -p too registers it twice.)
  // --tb=native: pytest's own traceback renderer can fail on a frame the alarm interrupted
  // (an IndexError in get_source, an INTERNALERROR that ends the session at a random case).
  return {fmt::format("--timeout={:.3g}", *seconds),
          "--timeout-method=signal",
          "--tb=native",
          "-p",
          "grader_budget",
          fmt::format("--grader-budget={:.3g},{:.3g},{:.3g}", *seconds, t.limits.cpu_seconds(),
                      t.limits.wall_seconds())};
}

void write_pytest_plugin(const fs::path& grader_dir) {
  const fs::path dir = grader_dir / fs::path(kPytestPluginDir).filename();
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir / "grader_budget.py", std::ios::binary);
  out << kBudgetPlugin;
  out.close();
  if (ec || !out)
    throw InfrastructureError(fmt::format("cannot write the pytest plugin in {}", dir.string()));
  fs::permissions(dir, fs::perms(0755), ec);
  fs::permissions(dir / "grader_budget.py", fs::perms(0644), ec);
}

}  // namespace grader
