// See container_check.h. Options named in the advice were tried with podman 4.3 (runc,
// cgroup v1 hybrid host); the Docker equivalents come from Docker's documentation.
#include "grader/course/container_check.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace grader {
namespace {

namespace fs = std::filesystem;

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().substr(0, 1 << 16);
}

std::string detect_container() {
  std::error_code ec;
  if (fs::exists("/.dockerenv", ec)) return "docker";
  if (fs::exists("/run/.containerenv", ec)) return "podman";
  const std::string cgroups = read_small_file("/proc/1/cgroup");
  for (const char* marker : {"docker", "libpod", "kubepods", "containerd", "lxc"})
    if (cgroups.find(marker) != std::string::npos) return "container";
  const std::string environ = read_small_file("/proc/1/environ");
  if (environ.find("container=") != std::string::npos) return "container";
  return "";
}

// Writes `text` to an already-known path with raw syscalls (safe in a forked child).
bool write_proc_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t length = strlen(text);
  bool ok = write(fd, text, length) == static_cast<ssize_t>(length);
  close(fd);
  return ok;
}

// Child exit status of the namespace probe: 64 and 65 when no user namespace could be made,
// else a bit for each thing that failed inside it.
constexpr int kNoUserNamespace = 64;
constexpr int kNoUidMap = 65;
constexpr int kNoNetworkNamespace = 1;
constexpr int kNoHostname = 2;  // engines' seccomp profiles refuse sethostname without SYS_ADMIN
constexpr int kNoProcMount = 4;

// Runs in a forked child of a possibly multi-threaded process: only syscalls, no allocation.
[[noreturn]] void namespace_probe_child(const char* uid_map, const char* gid_map) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS) != 0)
    _exit(kNoUserNamespace);
  if (!write_proc_file("/proc/self/setgroups", "deny") ||
      !write_proc_file("/proc/self/uid_map", uid_map) ||
      !write_proc_file("/proc/self/gid_map", gid_map))
    _exit(kNoUidMap);
  pid_t init = fork();  // the first child is PID 1 of the new pid namespace
  if (init < 0) _exit(kNoProcMount);
  if (init == 0) {
    int failed = 0;
    if (unshare(CLONE_NEWNET) != 0) failed |= kNoNetworkNamespace;
    if (sethostname("box", 3) != 0) failed |= kNoHostname;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      failed |= kNoProcMount;
    _exit(failed);
  }
  int status = 0;
  while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : kNoProcMount);
}

int run_namespace_probe() {
  char uid_map[64], gid_map[64];
  snprintf(uid_map, sizeof uid_map, "0 %u 1\n", static_cast<unsigned>(getuid()));
  snprintf(gid_map, sizeof gid_map, "0 %u 1\n", static_cast<unsigned>(getgid()));
  pid_t child = fork();
  if (child < 0) return kNoUserNamespace;
  if (child == 0) namespace_probe_child(uid_map, gid_map);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : kNoUserNamespace;
}

bool writable_mount(const char* path) {
  struct statvfs info {};
  return statvfs(path, &info) == 0 && !(info.f_flag & ST_RDONLY) && access(path, W_OK) == 0;
}

std::string probe_cgroup() {
  std::error_code ec;
  if (fs::exists("/sys/fs/cgroup/cgroup.controllers", ec))
    return writable_mount("/sys/fs/cgroup") ? "v2" : "read-only";
  if (fs::exists("/sys/fs/cgroup/memory", ec))
    return writable_mount("/sys/fs/cgroup/memory") ? "v1" : "read-only";
  return "none";
}

}  // namespace

ContainerProbe probe_container() {
  ContainerProbe probe;
  probe.container = detect_container();
  int code = run_namespace_probe();
  probe.user_namespace = code != kNoUserNamespace && code != kNoUidMap;
  probe.network_namespace = probe.user_namespace && !(code & kNoNetworkNamespace);
  probe.hostname = probe.user_namespace && !(code & kNoHostname);
  probe.proc_mount = probe.user_namespace && !(code & kNoProcMount);
  probe.cgroup = probe_cgroup();
  return probe;
}

std::string container_advice(const ContainerProbe& probe) {
  if (probe.container.empty()) return "";
  const bool docker = probe.container != "podman";
  std::string missing, options;
  auto add = [](std::string& list, const std::string& item) {
    if (list.find(item) == std::string::npos) list += (list.empty() ? "" : " ") + item;
  };
  if (!probe.user_namespace) {
    missing +=
        "  - no new user namespaces: student code cannot be given its own pid, mount "
        "and network namespaces (Docker's default seccomp profile refuses them)\n";
    add(options, "--security-opt seccomp=unconfined");
  }
  if (probe.user_namespace && !probe.hostname) {
    missing +=
        "  - the seccomp profile refuses sethostname even in the box's own namespace, so "
        "the sandbox cannot set up a box\n";
    add(options, "--security-opt seccomp=unconfined");
  }
  if (probe.user_namespace && !probe.proc_mount) {
    missing +=
        "  - no fresh /proc in a new namespace: the engine masks parts of /proc and the "
        "kernel then refuses a new one\n";
    add(options, docker ? "--security-opt systempaths=unconfined" : "--security-opt unmask=ALL");
    if (docker) add(options, "--security-opt apparmor=unconfined");
  }
  if (probe.cgroup == "read-only" || probe.cgroup == "none") {
    missing +=
        "  - cgroups are read-only: memory and CPU limits fall back to rlimits (per process, "
        "not per run), and the process limit is not enforced\n";
    add(options, "-v /sys/fs/cgroup:/sys/fs/cgroup:rw");
  }
  if (missing.empty()) return "";
  return "grader: running in a " + probe.container +
         " container that withholds what the sandbox needs:\n" + missing +
         "  Grading goes on with what is available; score.json's host.enforced says what "
         "was enforced.\n  To get full isolation, add to the run command: " +
         options + "\n";
}

nlohmann::json container_probe_json(const ContainerProbe& probe) {
  return {{"schema_version", 1},
          {"container", probe.container},
          {"user_namespace", probe.user_namespace},
          {"proc_mount", probe.proc_mount},
          {"network_namespace", probe.network_namespace},
          {"hostname", probe.hostname},
          {"cgroup", probe.cgroup},
          {"advice", container_advice(probe)}};
}

}  // namespace grader
