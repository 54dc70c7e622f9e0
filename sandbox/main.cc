// grader-sandbox: run one untrusted command with limits and report exactly what happened.
#include <fcntl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "sandbox/cgroup.h"
#include "sandbox/policy.h"
#include "sandbox/result.h"
#include "sandbox/run.h"
#include "sandbox/warm.h"

namespace {

// Writes the result atomically when it goes to a regular file, so a reader never sees half
// of it. Anything else (stdout, /dev/null, a pipe) is written in place: renaming over a device
// would replace it with a plain file.
bool write_result(const std::string& path, const nlohmann::json& j) {
  std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::cout << text << std::flush;
    return true;
  }
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
  }
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return false;
  // No fsync: whoever started us reads the result at once, and a crash of the machine loses
  // the grading that asked for it anyway (it is redone), so durability buys nothing here.
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // The stderr logger is made when first needed: most runs log nothing, and every run starts
  // a new grader-sandbox.
  bool logger_made = false;
  auto logger = [&logger_made] {
    if (logger_made) return;
    spdlog::set_default_logger(spdlog::stderr_color_st("grader-sandbox"));
    spdlog::set_pattern("grader-sandbox: %v");
    logger_made = true;
  };

  CLI::App app{
      "grader-sandbox: run one untrusted command with limits and report exactly what happened.\n"
      "Exit status: 0 when the run was carried out (whatever its verdict), 1 when the sandbox\n"
      "could not do its job, 2 on bad usage."};
  std::string policy_file, result_file = "-", cpu, wall, memory, pids, output, file_size,
                           open_files, network;
  std::string cwd, stdin_path, stdout_path, stderr_path;
  std::vector<std::string> binds, ro_binds, tmpfs, env, command;
  bool strict = false, verbose = false;
  app.add_option("--policy", policy_file, "Policy JSON file (options given here override it)");
  app.add_option("--cpu-time", cpu, "CPU seconds for the whole run");
  app.add_option("--wall-time", wall, "Wall-clock seconds (default 3 x cpu time)");
  app.add_option("--memory", memory, "Memory of the whole run, swap 0 (e.g. 256M)");
  app.add_option("--pids", pids, "Processes and threads at once");
  app.add_option("--output", output, "Cap on captured stdout + stderr (e.g. 1M)");
  app.add_option("--file-size", file_size, "Largest file the run may write");
  app.add_option("--open-files", open_files, "Open files per process");
  app.add_option("--network", network, "none (default) or loopback")
      ->check(CLI::IsMember({"none", "loopback"}));
  app.add_option("--bind", binds, "Read-write bind SRC[:DST]");
  app.add_option("--ro-bind", ro_binds, "Read-only bind SRC[:DST]");
  app.add_option("--tmpfs", tmpfs, "Size-capped tmpfs DST[:SIZE]");
  app.add_option("--cwd", cwd, "Working directory inside the box");
  app.add_option("--env", env, "NAME=VALUE (the environment is otherwise empty)");
  app.add_option("--stdin", stdin_path, "Host file for standard input (default /dev/null)");
  app.add_option("--stdout", stdout_path, "Host file for captured standard output");
  app.add_option("--stderr", stderr_path, "Host file for captured standard error");
  app.add_option("--result", result_file, "Where the result JSON goes ('-' for stdout)");
  app.add_flag("--strict", strict, "Refuse to run when a protection cannot be enforced");
  std::string channel;
  app.add_option("--channel", channel, "Host file that receives what the program writes to fd 3");
  std::string zygote, serve_zygote, preload, python = "/usr/bin/python3";
  app.add_option("--zygote", zygote,
                 "Start the program as a fork of the zygote at this socket (warm start)");
  app.add_option("--serve-zygote", serve_zygote,
                 "Become a zygote listening at this socket (root only; see README.md)");
  app.add_option("--preload", preload, "With --serve-zygote: modules to import, comma-separated");
  app.add_option("--python", python,
                 "With --serve-zygote: the interpreter (default /usr/bin/python3)");
  bool cleanup = false;
  app.add_flag("--cleanup", cleanup,
               "Remove the cgroups of runs whose supervisor is gone, print a JSON report, exit");
  app.add_flag("-v,--verbose", verbose, "Log each step");
  app.add_option("command", command, "PROGRAM [ARGS...] after --");
  app.positionals_at_end();
  CLI11_PARSE(app, argc, argv);
  if (cleanup) {
    std::vector<std::string> failures;
    int removed = sandbox::remove_stale_cgroups(failures);
    std::cout << nlohmann::json{{"removed", removed}, {"failures", failures}}.dump() << "\n";
    return failures.empty() ? 0 : 1;
  }

  if (!serve_zygote.empty()) {
    std::string error = sandbox::serve_zygote(serve_zygote, python, preload, env);
    std::cerr << "grader-sandbox: " << error << "\n";
    return 1;
  }

  sandbox::Policy policy;
  try {
    if (!policy_file.empty()) {
      std::ifstream in(policy_file);
      if (!in) throw std::invalid_argument("cannot read policy file " + policy_file);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const nlohmann::json::parse_error& e) {
        throw std::invalid_argument(policy_file + ": " + e.what());
      }
      sandbox::apply_json(policy, j);
    }
    nlohmann::json cli;
    auto seconds = [](const std::string& s, const char* name) {
      try {
        size_t used = 0;
        double v = std::stod(s, &used);
        if (used != s.size() || v < 0) throw std::invalid_argument(s);
        return v;
      } catch (const std::exception&) {
        throw std::invalid_argument(std::string("--") + name + ": bad number of seconds '" + s +
                                    "'");
      }
    };
    if (!cpu.empty()) cli["cpu_time"] = seconds(cpu, "cpu-time");
    if (!wall.empty()) cli["wall_time"] = seconds(wall, "wall-time");
    if (!memory.empty()) cli["memory"] = memory;
    if (!pids.empty()) cli["pids"] = pids;
    if (!output.empty()) cli["output"] = output;
    if (!file_size.empty()) cli["file_size"] = file_size;
    if (!open_files.empty()) cli["open_files"] = open_files;
    if (!network.empty()) cli["network"] = network;
    if (!cwd.empty()) cli["cwd"] = cwd;
    if (!stdin_path.empty()) cli["stdin"] = stdin_path;
    if (!stdout_path.empty()) cli["stdout"] = stdout_path;
    if (!stderr_path.empty()) cli["stderr"] = stderr_path;
    if (!command.empty()) cli["argv"] = command;
    if (strict) cli["strict"] = true;
    if (!channel.empty()) cli["channel"] = channel;
    if (!zygote.empty()) cli["zygote"] = zygote;
    auto split = [](const std::string& s) {
      auto colon = s.find(':');
      return colon == std::string::npos ? std::pair{s, s}
                                        : std::pair{s.substr(0, colon), s.substr(colon + 1)};
    };
    for (const auto& b : binds)
      cli["binds"].push_back(
          {{"src", split(b).first}, {"dst", split(b).second}, {"writable", true}});
    for (const auto& b : ro_binds)
      cli["binds"].push_back({{"src", split(b).first}, {"dst", split(b).second}});
    for (const auto& t : tmpfs) {
      auto [dst, size] = split(t);
      nlohmann::json entry{{"dst", dst}};
      if (size != dst) entry["size"] = size;
      cli["tmpfs"].push_back(entry);
    }
    for (const auto& e : env) {
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("--env: expected NAME=VALUE, got '" + e + "'");
      cli["env"][e.substr(0, eq)] = e.substr(eq + 1);
    }
    if (!cli.is_null()) sandbox::apply_json(policy, cli);
    if (std::string bad = sandbox::validate(policy); !bad.empty()) throw std::invalid_argument(bad);
  } catch (const std::invalid_argument& e) {
    std::cerr << "grader-sandbox: " << e.what() << "\n";
    return 2;
  }

  if (verbose) logger();
  sandbox::Result result = sandbox::run(policy, {verbose});
  if (!result.warnings.empty()) {
    // One clear warning per run, not one per missing protection.
    std::string all;
    for (const auto& w : result.warnings) all += (all.empty() ? "" : "; ") + w;
    logger();
    spdlog::warn("weaker isolation: {}", all);
  }
  if (result.verdict == sandbox::Verdict::SandboxError) {
    logger();
    spdlog::error("{}", result.error);
  }
  if (!write_result(result_file, sandbox::to_json(result))) {
    logger();
    spdlog::error("cannot write result to {}", result_file);
    return 1;
  }
  return result.verdict == sandbox::Verdict::SandboxError ? 1 : 0;
}
