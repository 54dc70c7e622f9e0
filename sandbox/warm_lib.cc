// libgrader-warm.so: the steps a zygote's fork takes into a box, as C functions for the
// zygote (grader-zygote.py, through ctypes). They are the cold path's own steps
// (become_program), so a warm program is contained exactly as a cold one; only exec is left out.
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "sandbox/child.h"
#include "sandbox/policy.h"

namespace {

using nlohmann::json;

struct Request {
  json j;
  const int* fds = nullptr;
  int nfds = 0;

  int fd(const json& slot) const {
    const int i = slot.is_number_integer() ? slot.get<int>() : -1;
    return i >= 0 && i < nfds ? fds[i] : -1;
  }
  int fd(const char* name) const { return fd(j.at("fds").at(name)); }
};

void report_error(int control, char kind, const std::string& text) {
  std::string msg = kind + text;
  (void)send(control, msg.data(), msg.size(), MSG_NOSIGNAL);
}

}  // namespace

extern "C" {

// In the zygote's runner: joins the box's mount, pid, ipc, uts and network namespaces (the
// runner's next child is born in the box's pid namespace). Returns 0, or -1 after reporting why
// on the control socket.
int grader_warm_enter(const char* request, const int* fds, int nfds) {
  try {
    Request r{json::parse(request), fds, nfds};
    prctl(PR_SET_DUMPABLE, 0);
    for (const auto& slot : r.j.at("fds").at("namespaces")) {
      const int ns = r.fd(slot);
      if (ns < 0 || setns(ns, 0) != 0) {
        report_error(
            r.fd("control"), sandbox::kMsgExecError,
            std::string("warm start: joining the box's namespaces: ") + std::strerror(errno));
        return -1;
      }
      close(ns);
    }
    return 0;
  } catch (const std::exception& e) {
    return -1;
  }
}

// In the runner's child, in the box's pid namespace: becomes the program (become_program), then
// closes the control socket, so nothing the program does can speak for the box. Returns 0; on
// failure it reports on the control socket and exits.
int grader_warm_become(const char* request, const int* fds, int nfds) {
  sandbox::Policy policy;
  sandbox::ChildSetup s;
  int control = -1;
  try {
    Request r{json::parse(request), fds, nfds};
    control = r.fd("control");
    sandbox::apply_json(policy, r.j.at("policy"));
    s.policy = &policy;
    s.isolation = sandbox::Isolation::Namespaces;
    s.control_fd = control;
    s.stdin_fd = r.fd("stdin");
    s.stdout_fd = r.fd("stdout");
    s.stderr_fd = r.fd("stderr");
    s.channel_fd = r.fd("channel");
    s.memory_by_rlimit = r.j.at("memory_by_rlimit").get<bool>();
    s.pids_by_rlimit = r.j.at("pids_by_rlimit").get<bool>();
    s.cpu_by_rlimit = r.j.at("cpu_by_rlimit").get<bool>();
    for (const auto& slot : r.j.at("fds").at("cgroup_join"))
      s.cgroup_join_fds.push_back(r.fd(slot));
    s.cgroup_dir_fd = r.fd("cgroup_dir");
    s.warm = true;
  } catch (const std::exception& e) {
    if (control >= 0)
      report_error(control, sandbox::kMsgExecError, std::string("warm start: ") + e.what());
    _exit(127);
  }
  close(sandbox::become_program(s));
  return 0;
}

// In the runner: waits for the program and reports its end on the control socket, as init does
// for a cold program. Never returns.
void grader_warm_report(int pid, const char* request, const int* fds, int nfds) {
  int control = -1;
  try {
    Request r{json::parse(request), fds, nfds};
    control = r.fd("control");
  } catch (const std::exception&) {
    _exit(1);
  }
  // Only the control socket stays: the program's ends of the pipes must close with it.
  for (int i = 0; i < nfds; ++i)
    if (fds[i] != control) close(fds[i]);
  sandbox::ExitReport report;
  while (wait4(pid, &report.status, 0, &report.usage) < 0)
    if (errno != EINTR) _exit(1);
  char msg[1 + sizeof report];
  msg[0] = sandbox::kMsgExit;
  std::memcpy(msg + 1, &report, sizeof report);
  (void)send(control, msg, sizeof msg, MSG_NOSIGNAL);
  _exit(0);
}

}  // extern "C"
