#include "common/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/fd.h"

extern char** environ;

namespace common {
namespace {

// posix_spawn's two set-up objects, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&files);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t files;
  posix_spawnattr_t attributes;
};

std::optional<pid_t> start(const std::vector<std::string>& args, SpawnSetup& setup,
                           std::string& error,
                           const std::optional<std::vector<std::string>>& environment = {}) {
  if (args.empty()) {
    error = "cannot start a program: no command";
    return std::nullopt;
  }
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_addclosefrom_np(&setup.files, 3);
  std::vector<char*> envp;
  if (environment) {
    for (const std::string& e : *environment) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &setup.files, &setup.attributes, argv.data(),
                             environment ? envp.data() : environ);
  if (rc != 0) {
    error = "cannot start " + args[0] + ": " + std::strerror(rc);
    return std::nullopt;
  }
  return pid;
}

// Reads both pipes to their ends, whichever has data first (reading one to its end first
// could leave the program blocked writing the other). A pipe it stops reading is closed at
// once, so the program gets EPIPE instead of blocking on a full pipe, and the wait after
// this cannot hang. Returns "" or what went wrong.
std::string drain(Fd& out_pipe, Fd& err_pipe, std::string& out, std::string& err) {
  Fd* pipes[2] = {&out_pipe, &err_pipe};
  std::string* sinks[2] = {&out, &err};
  pollfd fds[2] = {{out_pipe.get(), POLLIN, 0}, {err_pipe.get(), POLLIN, 0}};
  auto stop = [&](int k) {
    pipes[k]->reset();
    fds[k].fd = -1;  // poll skips negative descriptors
  };
  char buffer[4096];
  std::string error;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      const std::string error = std::string("reading its output failed: ") + std::strerror(errno);
      stop(0);
      stop(1);
      return error;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      const ssize_t n = ::read(fds[k].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[k]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        if (n < 0 && error.empty())
          error = std::string("reading its output failed: ") + std::strerror(errno);
        stop(k);
      }
    }
  }
  return error;
}

// waitpid, again after a signal; false when it fails otherwise.
bool wait_for(pid_t pid, int& status) {
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return true;
}

}  // namespace

std::optional<pid_t> spawn(const Command& c, std::string& error) {
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&setup.files, 1, c.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   c.output_mode);
  posix_spawn_file_actions_adddup2(&setup.files, 1, 2);
  if (c.own_process_group) {
    posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&setup.attributes, 0);
  }
  return start(c.argv, setup, error);
}

Waited wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  const Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  auto pause = std::chrono::microseconds(200);
  int status = 0;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return {Waited::End::Exited, WIFEXITED(status) ? WEXITSTATUS(status) : -1, ""};
    if (w < 0 && errno != EINTR) return {Waited::End::Failed, -1, std::strerror(errno)};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      wait_for(pid, status);
      return {Waited::End::Deadline, -1, ""};
    }
    if (pidfd.ok()) {
      pollfd p{pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    } else {  // a kernel before 5.3
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
    }
  }
}

Finished run_to_end(const std::vector<std::string>& argv,
                    const std::optional<std::vector<std::string>>& environment) {
  Finished f;
  int out_ends[2], err_ends[2];
  if (::pipe2(out_ends, O_CLOEXEC) != 0) {
    f.error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return f;
  }
  Fd out_read(out_ends[0]), out_write(out_ends[1]);  // owned before the second can fail
  if (::pipe2(err_ends, O_CLOEXEC) != 0) {
    f.error = std::string("cannot make a pipe: ") + std::strerror(errno);
    return f;
  }
  Fd err_read(err_ends[0]), err_write(err_ends[1]);
  std::optional<pid_t> pid;
  {
    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.files, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&setup.files, err_write.get(), 2);
    pid = start(argv, setup, f.error, environment);
  }
  out_write.reset();  // the pipes end when the program's copies close
  err_write.reset();
  if (!pid) return f;
  const std::string read_error = drain(out_read, err_read, f.out, f.err);
  int status = 0;
  if (!wait_for(*pid, status)) {
    f.error = std::string("waiting for it failed: ") + std::strerror(errno) +
              (read_error.empty() ? "" : "; " + read_error);
    return f;
  }
  if (!read_error.empty()) {
    f.error = read_error;
    return f;
  }
  f.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return f;
}

}  // namespace common
