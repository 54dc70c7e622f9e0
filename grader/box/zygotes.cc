#include "grader/box/zygotes.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/spawn.h"
#include "grader/box/remove_tree.h"

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
  // Its own process group: stopping it kills the runners it forked too.
  std::string error;
  const std::optional<pid_t> spawned = common::spawn({args, log, 0600, true}, error);
  if (!spawned) return error;
  const pid_t pid = *spawned;
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
