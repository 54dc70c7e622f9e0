#include "grader/box/sandbox_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/spawn.h"
#include "reports/score.h"

namespace grader {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Reads at most `cap` bytes of a host file the grader itself created.
std::string read_small_file(const fs::path& path, size_t cap) {
  std::ifstream in(path, std::ios::binary);
  std::string data(cap, '\0');
  in.read(data.data(), static_cast<std::streamsize>(cap));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

// How long the host waits for grader-sandbox before it declares the run lost: the box's
// own wall limit plus a margin.
std::chrono::milliseconds host_deadline(const sandbox::Policy& policy) {
  return std::chrono::milliseconds(
      static_cast<int64_t>((policy.effective_wall_time() + 60.0) * 1000));
}

}  // namespace

fs::path SandboxRunner::locate() {
  if (const char* env = std::getenv("GRADER_SANDBOX"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return self.parent_path() / "grader-sandbox";
}

std::string text_excerpt(const std::string& text, size_t budget) {
  if (text.size() <= budget) return reports::printable_text(text);
  size_t head = budget / 3, tail = budget - head;
  std::string cut = fmt::format("\n[... {} bytes cut ...]\n", text.size() - head - tail);
  return reports::printable_text(text.substr(0, head)) + cut +
         reports::printable_text(text.substr(text.size() - tail));
}

std::string file_excerpt(const fs::path& path, size_t budget) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return "";
  }
  auto size = static_cast<size_t>(st.st_size);
  auto read_at = [&](off_t offset, size_t n) {
    std::string buf(n, '\0');
    ssize_t got = ::pread(fd, buf.data(), n, offset);
    buf.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return buf;
  };
  std::string out;
  if (size <= budget) {
    out = reports::printable_text(read_at(0, size));
  } else {
    size_t head = budget / 3, tail = budget - head;
    out = reports::printable_text(read_at(0, head)) +
          fmt::format("\n[... {} bytes cut ...]\n", size - head - tail) +
          reports::printable_text(read_at(static_cast<off_t>(size - tail), tail));
  }
  ::close(fd);
  return out;
}

namespace {

// Starts grader-sandbox (common::spawn: nothing of this process's memory is copied), stdout
// and stderr to `log`, and kills it at `deadline`. Returns its exit status (-1 when a signal
// ended it), or nothing with `error` set.
std::optional<int> spawn_and_wait(const std::vector<std::string>& args, const fs::path& log,
                                  std::chrono::steady_clock::time_point deadline,
                                  std::string& error) {
  const std::optional<pid_t> pid = common::spawn({args, log, 0644, false}, error);
  if (!pid) return std::nullopt;
  const common::Waited w = common::wait_until(*pid, deadline);
  if (w.end == common::Waited::End::Deadline)
    error = "grader-sandbox did not finish within its wall-time limit plus 60 s; killed";
  else if (w.end == common::Waited::End::Failed)
    error = "waiting for grader-sandbox failed: " + w.error;
  else
    return w.exit_status;
  return std::nullopt;
}

}  // namespace

BoxResult read_result(int status, const std::string& result_text, const std::string& log) {
  BoxResult out;
  json parsed;
  try {
    parsed = json::parse(result_text);
  } catch (const json::exception&) {
    out.error = fmt::format("grader-sandbox exited with {} and wrote no readable result{}{}",
                            status, log.empty() ? "" : ": ", reports::printable_text(log));
    return out;
  }
  try {
    out.result = sandbox::result_from_json(parsed);
  } catch (const std::invalid_argument& e) {
    out.result = sandbox::Result{};
    out.error = fmt::format("grader-sandbox exited with {} and wrote a result it should not: {}",
                            status, reports::printable_text(e.what()));
    return out;
  }
  if (status != 0 || out.result.verdict == sandbox::Verdict::SandboxError) {
    std::string why = out.result.error.empty() ? reports::printable_text(log) : out.result.error;
    out.error = fmt::format("grader-sandbox exited with {}: {}", status, why);
    out.result.verdict = sandbox::Verdict::SandboxError;
    return out;
  }
  out.carried_out = true;
  return out;
}

sandbox::Policy limits_policy(const Limits& l) {
  sandbox::Policy p;
  if (l.cpu_time) p.cpu_time = *l.cpu_time;
  if (l.wall_time) p.wall_time = *l.wall_time;
  if (l.memory) p.memory = *l.memory;
  if (l.output) p.output = *l.output;
  if (l.file_size) p.file_size = *l.file_size;
  if (l.pids) p.pids = *l.pids;
  if (l.open_files) p.open_files = *l.open_files;
  p.network = l.network.value_or("none") == "loopback" ? sandbox::Network::Loopback
                                                       : sandbox::Network::None;
  return p;
}

sandbox::Policy box_policy(const BoxSpec& spec, const fs::path& run_dir) {
  sandbox::Policy p = limits_policy(spec.limits);
  p.argv = spec.argv;
  p.cwd = spec.cwd;
  p.env.assign(spec.env.begin(), spec.env.end());
  p.binds = spec.binds;
  for (sandbox::Tmpfs v : spec.volumes) {
    v.size = spec.limits.disk.value_or(kDefaultDisk);
    v.inodes = static_cast<uint64_t>(spec.limits.inodes.value_or(kDefaultInodes));
    p.tmpfs.push_back(std::move(v));
  }
  p.channel_path = spec.channel.string();
  p.zygote = spec.zygote;
  p.stdin_path = "/dev/null";
  p.stdout_path = (run_dir / "stdout.txt").string();
  p.stderr_path = (run_dir / "stderr.txt").string();
  return p;
}

BoxResult SandboxRunner::run(const BoxSpec& spec, const fs::path& run_dir,
                             size_t max_output) const {
  BoxResult out;
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) {
    out.error = fmt::format("cannot create {}: {}", run_dir.string(), ec.message());
    return out;
  }
  const sandbox::Policy policy = box_policy(spec, run_dir);
  const fs::path stdout_path = policy.stdout_path, stderr_path = policy.stderr_path;
  const fs::path result_path = run_dir / "result.json", policy_path = run_dir / "policy.json";
  const fs::path log_path = run_dir / "sandbox.log";
  {
    std::ofstream p(policy_path);
    p << sandbox::to_json(policy).dump(2) << "\n";
    if (!p) {
      out.error = fmt::format("cannot write {}", policy_path.string());
      return out;
    }
  }

  std::vector<std::string> args{executable_.string(), "--policy", policy_path.string(), "--result",
                                result_path.string()};
  const auto deadline = std::chrono::steady_clock::now() + host_deadline(policy);
  std::string spawn_error;
  std::optional<int> exited = spawn_and_wait(args, log_path, deadline, spawn_error);
  if (!exited) {
    out.error = spawn_error;
    return out;
  }
  out =
      read_result(*exited, read_small_file(result_path, 1 << 20), read_small_file(log_path, 2048));
  if (!out.carried_out) return out;
  // Output excerpt: stdout then stderr, sharing the budget; an empty stream gives its share.
  std::string so = file_excerpt(stdout_path, max_output),
              se = file_excerpt(stderr_path, max_output);
  if (!so.empty() && !se.empty()) {
    so = file_excerpt(stdout_path, max_output / 2);
    se = file_excerpt(stderr_path, max_output - max_output / 2);
  }
  out.output = so;
  if (!se.empty()) out.output += (so.empty() || so.back() == '\n' ? "" : "\n") + se;
  return out;
}

}  // namespace grader
