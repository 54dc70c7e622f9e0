# grader's pytest budget: written into a student's pytest box by grader/engine/pytest_budget.cc
# (which says what it does and why).
import os
import signal
import time

import pytest

_loaded = time.monotonic()
_STOP = 0.05  # seconds left (after the margin) below which no further case starts
_done = [0]  # cases run so far (by position: a suite may list an item twice)
_in_call = [False]


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
    """(cpu, wall, cpu_left, wall_left): the run's limits, and what is left of each less a
    margin for pytest's own report."""
    spec = os.environ.get("GRADER_PYTEST_BUDGET", "")
    if not spec:
        return None
    cpu, wall = (float(x) for x in spec.split(","))
    margin = max(0.5, 0.05 * min(cpu, wall))
    return cpu, wall, cpu - margin - _cpu_used(), wall - margin - _wall_used()


def _on_cpu_limit(signum, frame):
    __tracebackhide__ = True
    if _in_call[0]:  # a late signal outside a case is ignored (SIG_DFL would kill pytest)
        pytest.fail("Timeout: the run's CPU limit was nearly reached; the grader stopped this case")


def pytest_configure(config):
    if os.environ.get("GRADER_PYTEST_BUDGET"):
        signal.signal(signal.SIGPROF, _on_cpu_limit)


# tryfirst: outside pytest-timeout's own wrapper, so the marker below is there when it arms
# the case's alarm, and the code after the yield runs once that alarm is cancelled.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    budget = _budget()
    if budget:
        import pytest_timeout

        own = pytest_timeout._get_item_settings(item)
        limit = own.timeout if own.timeout and own.timeout > 0 else float("inf")
        if budget[3] < limit:  # the wall time left, never looser than the case's own limit
            item.add_marker(
                pytest.mark.timeout(round(max(budget[3], _STOP), 3), method="signal",
                                    func_only=own.func_only), append=False)
    yield
    _done[0] += 1
    budget = _budget()
    if nextitem is None or not budget or min(budget[2], budget[3]) >= _STOP:
        return
    cpu, wall = budget[0], budget[1]
    rest = item.session.items[_done[0]:]
    why = "not run: grader stopped pytest before the run's limit (%g s CPU, %g s wall)" % (cpu, wall)
    for it in rest:  # reported, so that the JUnit file counts them as failed
        it.ihook.pytest_runtest_logstart(nodeid=it.nodeid, location=it.location)
        it.ihook.pytest_runtest_logreport(
            report=pytest.TestReport(it.nodeid, it.location, {}, "failed", why, "call"))
        it.ihook.pytest_runtest_logfinish(nodeid=it.nodeid, location=it.location)
    message = ("grader stopped pytest with %d case(s) not run, reported as failed: the run's "
               "limit (%g s CPU, %g s wall) was nearly reached, and its kill would lose every "
               "result" % (len(rest), cpu, wall))
    terminal = item.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:  # now: a session fixture's teardown may never let the summary print
        terminal.write_line("")
        terminal.write_line(message)
    item.session.shouldstop = message


# The CPU part of the budget as a CPU timer around the test function (ITIMER_PROF counts this
# process's CPU in all its threads; not its children's).
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    budget = _budget()
    if budget:
        _in_call[0] = True
        signal.setitimer(signal.ITIMER_PROF, max(budget[2], _STOP))
    try:
        yield
    finally:
        if budget:
            signal.setitimer(signal.ITIMER_PROF, 0)
            _in_call[0] = False
