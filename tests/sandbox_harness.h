// Runs grader-sandbox as a test would: as root or as an unprivileged user, with a fresh
// folder for its files, and reads back the result.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace harness {

namespace fs = std::filesystem;

enum class Who { Root, Unprivileged };

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh folder that any uid may write (runs as an unprivileged user write their files here).
inline fs::path fresh_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  fs::path dir =
      fs::temp_directory_path() /
      ("grader-test-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  chmod(dir.c_str(), 0777);
  return dir;
}

// Each unprivileged run gets a uid of its own, so that per-user limits of parallel tests
// (RLIMIT_NPROC counts every process of a uid) never meet.
inline int unprivileged_uid() { return 61000 + (getpid() % 3000); }

struct Outcome {
  int exit_status = -1;  // of grader-sandbox itself
  pid_t pid = -1;        // of grader-sandbox (the name of its run's cgroup starts with it)
  nlohmann::json result;
  std::string out, err;
};

inline Outcome run_sandbox(Who who, const std::vector<std::string>& options,
                           const std::vector<std::string>& command,
                           const std::vector<std::string>& extra_env = {}, int inherit_fd = -1) {
  fs::path dir = fresh_dir("run");
  std::vector<std::string> args;
  if (who == Who::Unprivileged && geteuid() == 0) {
    std::string id = std::to_string(unprivileged_uid());
    args = {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups"};
  }
  args.push_back(std::string(BUILD_DIR) + "/bin/grader-sandbox");
  args.insert(args.end(), {"--result", (dir / "result.json").string(), "--stdout",
                           (dir / "out").string(), "--stderr", (dir / "err").string()});
  args.insert(args.end(), options.begin(), options.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());

  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (inherit_fd >= 0) fcntl(inherit_fd, F_SETFD, 0);  // deliberately inheritable
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  Outcome o;
  o.pid = pid;
  int status = 0;
  waitpid(pid, &status, 0);
  o.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string text = read_text(dir / "result.json");
  if (!text.empty()) o.result = nlohmann::json::parse(text, nullptr, false);
  o.out = read_text(dir / "out");
  o.err = read_text(dir / "err");
  fs::remove_all(dir);
  return o;
}

// Processes on the host whose command line contains `needle` (a survivor check).
inline int count_processes(const std::string& needle) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_text(e.path() / "cmdline");
    for (auto& c : cmd)
      if (c == 0) c = ' ';
    if (cmd.find(needle) != std::string::npos && cmd.find("grader-sandbox") == std::string::npos)
      ++n;
  }
  return n;
}

// A warm-start zygote (grader-sandbox --serve-zygote) for the tests of one process: started
// here and waited for, its process group killed at the end. Root only.
class Zygote {
 public:
  explicit Zygote(const std::string& preload, const std::vector<std::string>& env = {}) {
    dir_ = fresh_dir("zygote");
    chmod(dir_.c_str(), 0700);
    socket_ = (dir_ / "sock").string();
    std::vector<std::string> args{std::string(BUILD_DIR) + "/bin/grader-sandbox", "--serve-zygote",
                                  socket_, "--preload", preload};
    for (const auto& e : env) args.insert(args.end(), {"--env", e});
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int log = open((dir_ / "log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    setpgid(pid_, pid_);
    for (int i = 0; i < 3000 && !fs::is_socket(socket_); ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) break;
      usleep(20000);
    }
  }
  ~Zygote() {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    fs::remove_all(dir_);
  }
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  bool ready() const { return fs::is_socket(socket_); }
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return pid_; }  // the zygote itself (its runners are its children)
  std::string log() const { return read_text(dir_ / "log"); }

 private:
  fs::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
};

}  // namespace harness
