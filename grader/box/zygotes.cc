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

void Zygotes::reap_if_dead(Zygote& z) {
  if (z.pid <= 0 || waitpid(z.pid, nullptr, WNOHANG) != z.pid) return;
  z.pid = -1;
  z.listening = false;
  std::error_code ec;
  fs::remove(z.socket, ec);
}

Zygotes::Zygote& Zygotes::launched(const ZygoteKey& key) {
  Zygote& z = zygotes_[key];
  reap_if_dead(z);
  if (z.pid <= 0 && z.failure.empty()) z.failure = launch(key, z);
  return z;
}

void Zygotes::warm_up(const ZygoteKey& key) {
  std::lock_guard lock(mutex_);
  launched(key);
}

std::string Zygotes::socket_for(const ZygoteKey& key, std::string& why) {
  std::lock_guard lock(mutex_);
  Zygote& z = launched(key);
  if (z.pid > 0 && !z.listening) z.failure = wait_until_listening(z);
  if (z.listening) return z.socket.string();
  why = z.failure;
  return "";
}

std::string Zygotes::launch(const ZygoteKey& key, Zygote& z) {
  if (++z.starts > kMaxStarts)
    return fmt::format("the zygote died {} times; not started again", kMaxStarts);
  if (dir_.empty()) {
    std::string pattern = (fs::temp_directory_path() / "grader-zygotes-XXXXXX").string();
    if (!mkdtemp(pattern.data())) return "cannot create a folder for the zygotes' sockets";
    dir_ = pattern;  // mkdtemp makes it 0700
  }
  const std::string name = std::to_string(zygotes_.size()) + "-" + std::to_string(z.starts);
  z.socket = dir_ / (name + ".sock");
  z.log = dir_ / (name + ".log");
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
  const std::optional<pid_t> spawned = common::spawn({args, z.log, 0600, true}, error);
  if (!spawned) return error;
  z.pid = *spawned;
  return "";
}

// The start-up limit counts from this wait, not from the launch: a zygote launched early
// loses none of it to the intake and build that ran meanwhile.
std::string Zygotes::wait_until_listening(Zygote& z) {
  const auto started = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() <
         kStartSeconds) {
    std::error_code ec;
    if (fs::is_socket(z.socket, ec)) {
      z.listening = true;
      return "";
    }
    if (waitpid(z.pid, nullptr, WNOHANG) == z.pid) {
      z.pid = -1;
      return "the zygote did not start: " + last_line(z.log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-z.pid, SIGKILL);
  waitpid(z.pid, nullptr, 0);
  z.pid = -1;
  return fmt::format("the zygote was not listening after {} s", kStartSeconds);
}

}  // namespace grader
