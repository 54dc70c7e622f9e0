#include "sandbox/warm.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/child.h"

namespace sandbox {
namespace {

constexpr int kWarmProtocol = 1;

}  // namespace

int connect_zygote(const std::string& socket_path, ZygoteHello& hello, std::string& why) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    why = "zygote socket path too long: " + socket_path;
    return -1;
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    why = "cannot reach the zygote at " + socket_path + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  // The zygote forks a runner per connection, which greets at once; a zygote too busy to do
  // so within seconds is not worth waiting for (the run starts cold).
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) {
    why = "the zygote at " + socket_path + " did not greet: " +
          (n == 0 ? std::string("it closed the connection") : std::strerror(errno));
    close(fd);
    return -1;
  }
  try {
    auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)));
    if (j.at("protocol").get<int>() != kWarmProtocol) throw std::runtime_error("protocol");
    hello.python = j.at("python").get<std::string>();
    hello.preload = j.at("preload").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    why = "the zygote at " + socket_path + " sent a greeting this supervisor does not read";
    close(fd);
    return -1;
  }
  return fd;
}

std::string warm_refusal(const Policy& p, const ZygoteHello& hello) {
  if (p.argv.empty() || p.argv[0] != hello.python)
    return "the program is not the zygote's interpreter (" + hello.python + ")";
  // -I (isolated: no PYTHONPATH, no user site, no script folder on the path) is the one
  // option a fork can still honour: it only shapes the path, which the fork builds anyway.
  const size_t at = p.argv.size() > 1 && p.argv[1] == "-I" ? 2 : 1;
  if (p.argv.size() <= at) return "no script or module to run";
  // An interpreter reads the others (PYTHONHASHSEED, PYTHONUNBUFFERED, ...) when it starts,
  // which a zygote's fork has done already.
  for (const auto& [name, value] : p.env)
    if (name.rfind("PYTHON", 0) == 0 && name != "PYTHONPATH" && name != "PYTHONDONTWRITEBYTECODE")
      return name + " is set (read when an interpreter starts; a fork of the zygote cannot)";
  const std::string& first = p.argv[at];
  if (first == "-m" || first == "-c")
    return p.argv.size() < at + 2 ? first + " without its argument" : "";
  if (first.empty() || first[0] == '-')
    return "interpreter option " + first +
           " (only [-I] -m MODULE, [-I] -c CODE or [-I] a script start warm)";
  return "";
}

std::string serve_zygote(const std::string& socket_path, const std::string& python,
                         const std::string& preload, const std::vector<std::string>& env) {
  if (geteuid() != 0) return "--serve-zygote: a zygote joins boxes' namespaces, which needs root";
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return std::string("cannot find this program: ") + std::strerror(errno);
  std::string dir(self, static_cast<size_t>(n));
  dir = dir.substr(0, dir.rfind('/'));
  const std::string script = dir + "/grader-zygote.py", lib = dir + "/libgrader-warm.so";
  for (const auto& f : {script, lib})
    if (access(f.c_str(), R_OK) != 0) return "warm start is not installed: no " + f;
  if (chdir("/") != 0) return std::string("chdir /: ") + std::strerror(errno);
  syscall(SYS_close_range, 3u, ~0u, 0);
  // -s: the zygote's own path without root's user site; each run adds its own (HOME's).
  std::vector<std::string> args{python,  "-s", script,      "--socket", socket_path,
                                "--lib", lib,  "--preload", preload};
  std::vector<std::string> vars{"PATH=/usr/local/bin:/usr/bin:/bin"};
  vars.insert(vars.end(), env.begin(), env.end());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : vars) envp.push_back(e.data());
  envp.push_back(nullptr);
  execve(python.c_str(), argv.data(), envp.data());
  return "cannot execute " + python + ": " + std::strerror(errno);
}

std::string send_warm_request(int zygote_fd, const Policy& p, const WarmFlags& flags,
                              const WarmFds& f) {
  std::vector<int> fds;
  auto add = [&](int fd) -> int {
    if (fd < 0) return -1;
    fds.push_back(fd);
    return static_cast<int>(fds.size()) - 1;
  };
  nlohmann::json slots;
  std::vector<int> ns, join;
  for (int fd : f.namespaces) ns.push_back(add(fd));
  slots["namespaces"] = ns;
  slots["control"] = add(f.control);
  slots["stdin"] = add(f.stdin_fd);
  slots["stdout"] = add(f.stdout_fd);
  slots["stderr"] = add(f.stderr_fd);
  slots["channel"] = add(f.channel);
  for (int fd : f.cgroup_join) join.push_back(add(fd));
  slots["cgroup_join"] = join;
  slots["cgroup_dir"] = add(f.cgroup_dir);
  nlohmann::json request{{"protocol", kWarmProtocol},
                         {"policy", to_json(p)},
                         {"memory_by_rlimit", flags.memory_by_rlimit},
                         {"pids_by_rlimit", flags.pids_by_rlimit},
                         {"cpu_by_rlimit", flags.cpu_by_rlimit},
                         {"fds", slots}};
  const std::string bytes = request.dump();
  if (!send_with_fds(zygote_fd, bytes.data(), bytes.size(), fds))
    return std::string("sending the run to the zygote: ") + std::strerror(errno);
  return "";
}

}  // namespace sandbox
