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
// Before each case it shortens that case's limit to what the run has left; when less than
// half a second is left it reports the cases not run as failed (so the JUnit file counts
// them, whether or not the manifest gives `cases`) and stops the session. CPU is this
// process's and its children's; wall time counts from the process's start (/proc/self/stat),
// the box's start for a cold run and the fork for a warm one.
constexpr const char* kBudgetPlugin =
    R"PY(# grader's pytest budget (written by grader/engine/pytest_budget.cc).
import os
import time

import pytest

_loaded = time.monotonic()
_FLOOR = 0.5  # seconds: with less than this left, no case starts


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


def _budget():
    """(case, cpu, wall, left): `left` is what the run has before its nearer limit, less a
    margin for pytest's own report."""
    spec = os.environ.get("GRADER_PYTEST_BUDGET", "")
    if not spec:
        return None
    case, cpu, wall = (float(x) for x in spec.split(","))
    margin = max(0.5, 0.05 * min(cpu, wall))
    return case, cpu, wall, min(cpu - _cpu_used(), wall - _wall_used()) - margin


# tryfirst: outside pytest-timeout's own wrapper, so the marker below is there when it arms
# the case's alarm, and the code after the yield runs once that alarm is cancelled.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    budget = _budget()
    if budget and budget[3] < budget[0]:  # this case may run only as long as the run has left
        item.add_marker(pytest.mark.timeout(round(max(budget[3], _FLOOR), 2)), append=False)
    yield
    budget = _budget()
    if nextitem is None or not budget or budget[3] >= _FLOOR:
        return
    _, cpu, wall, _ = budget
    items = item.session.items
    rest = items[items.index(nextitem):]
    why = "not run: grader stopped pytest before the run's limit (%g s CPU, %g s wall)" % (cpu, wall)
    for it in rest:  # reported, so that the JUnit file counts them as failed
        it.ihook.pytest_runtest_logstart(nodeid=it.nodeid, location=it.location)
        it.ihook.pytest_runtest_logreport(
            report=pytest.TestReport(it.nodeid, it.location, {}, "failed", why, "call"))
        it.ihook.pytest_runtest_logfinish(nodeid=it.nodeid, location=it.location)
    item.session.shouldstop = (
        "grader stopped pytest with %d case(s) not run, reported as failed: the run's limit "
        "(%g s CPU, %g s wall) was nearly reached, and its kill would lose every result"
        % (len(rest), cpu, wall))
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
  limits.budget = fmt::format("{:.6g},{:.6g},{:.6g}", *seconds, t.limits.cpu_seconds(),
                              t.limits.wall_seconds());
  return limits;
}

void write_pytest_plugin(const fs::path& grader_dir) {
  const fs::path dir = grader_dir / fs::path(kPytestPluginDir).filename();
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir / (std::string(kPytestPlugin) + ".py"), std::ios::binary);
  out << kBudgetPlugin;
  out.close();
  if (ec || !out)
    throw InfrastructureError(fmt::format("cannot write the pytest plugin in {}", dir.string()));
  fs::permissions(dir, fs::perms(0755), ec);
  fs::permissions(dir / (std::string(kPytestPlugin) + ".py"), fs::perms(0644), ec);
}

}  // namespace grader
