#include "grader/zygotes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "grader/remove_tree.h"

extern char** environ;

namespace grader {
namespace fs = std::filesystem;

namespace {

// A zygote imports torch in about 2 s here; a loaded machine may take several times that.
constexpr double kStartSeconds = 60;
constexpr int kMaxStarts = 3;

std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

}  // namespace

std::string warm_start_unavailable() {
  if (const char* w = std::getenv("GRADER_WARM"); w && std::string(w) == "0")
    return "warm start turned off (GRADER_WARM=0)";
  if (geteuid() != 0) return "warm start needs root (a zygote joins boxes' namespaces)";
  return "";
}

Zygotes::~Zygotes() {
  for (auto& [key, z] : zygotes_) {
    if (z.pid <= 0) continue;
    kill(-z.pid, SIGKILL);  // its process group: the zygote and any runner left
    waitpid(z.pid, nullptr, 0);
  }
  if (!dir_.empty()) (void)remove_tree(dir_);
}

std::string Zygotes::socket_for(const ZygoteKey& key, std::string& why) {
  std::lock_guard lock(mutex_);
  Zygote& z = zygotes_[key];
  if (z.pid > 0 && waitpid(z.pid, nullptr, WNOHANG) == z.pid) {
    z.pid = -1;  // it died: started again below
    std::error_code ec;
    fs::remove(z.socket, ec);
  }
  if (z.pid <= 0 && z.failure.empty()) z.failure = start(key, z);
  if (z.pid > 0) return z.socket.string();
  why = z.failure;
  return "";
}

std::string Zygotes::start(const ZygoteKey& key, Zygote& z) {
  if (++z.starts > kMaxStarts)
    return fmt::format("the zygote died {} times; not started again", kMaxStarts);
  if (dir_.empty()) {
    std::string pattern = (fs::temp_directory_path() / "grader-zygotes-XXXXXX").string();
    if (!mkdtemp(pattern.data())) return "cannot create a folder for the zygotes' sockets";
    dir_ = pattern;  // mkdtemp makes it 0700
  }
  const std::string name = std::to_string(zygotes_.size()) + "-" + std::to_string(z.starts);
  z.socket = dir_ / (name + ".sock");
  const fs::path log = dir_ / (name + ".log");
  std::string preload;
  for (const auto& m : key.preload) preload += (preload.empty() ? "" : ",") + m;
  std::vector<std::string> args{
      sandbox_.string(), "--serve-zygote", z.socket.string(), "--python", key.python,
      "--preload",       preload};
  for (const auto& [k, v] : key.env) {
    args.push_back("--env");
    args.push_back(k + "=" + v);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, argv[0], &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return fmt::format("cannot start {}: {}", args[0], std::strerror(err));
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() <
         kStartSeconds) {
    std::error_code ec;
    if (fs::is_socket(z.socket, ec)) {
      z.pid = pid;
      return "";
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) return "the zygote did not start: " + last_line(log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return fmt::format("the zygote was not listening after {} s", kStartSeconds);
}

}  // namespace grader
