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

// The command line, as given.
struct Options {
  std::string policy_file, result_file = "-", cpu, wall, memory, pids, output, file_size,
                           open_files, network;
  std::string cwd, stdin_path, stdout_path, stderr_path, channel;
  std::vector<std::string> binds, ro_binds, tmpfs, env, command;
  bool strict = false, verbose = false, cleanup = false;
  std::string zygote, serve_zygote, preload, python = "/usr/bin/python3";
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--policy", o.policy_file, "Policy JSON file (options given here override it)");
  app.add_option("--cpu-time", o.cpu, "CPU seconds for the whole run");
  app.add_option("--wall-time", o.wall, "Wall-clock seconds (default 3 x cpu time)");
  app.add_option("--memory", o.memory, "Memory of the whole run, swap 0 (e.g. 256M)");
  app.add_option("--pids", o.pids, "Processes and threads at once");
  app.add_option("--output", o.output, "Cap on captured stdout + stderr (e.g. 1M)");
  app.add_option("--file-size", o.file_size, "Largest file the run may write");
  app.add_option("--open-files", o.open_files, "Open files per process");
  app.add_option("--network", o.network, "none (default) or loopback")
      ->check(CLI::IsMember({"none", "loopback"}));
  app.add_option("--bind", o.binds, "Read-write bind SRC[:DST]");
  app.add_option("--ro-bind", o.ro_binds, "Read-only bind SRC[:DST]");
  app.add_option("--tmpfs", o.tmpfs, "Size-capped tmpfs DST[:SIZE]");
  app.add_option("--cwd", o.cwd, "Working directory inside the box");
  app.add_option("--env", o.env, "NAME=VALUE (the environment is otherwise empty)");
  app.add_option("--stdin", o.stdin_path, "Host file for standard input (default /dev/null)");
  app.add_option("--stdout", o.stdout_path, "Host file for captured standard output");
  app.add_option("--stderr", o.stderr_path, "Host file for captured standard error");
  app.add_option("--result", o.result_file, "Where the result JSON goes ('-' for stdout)");
  app.add_flag("--strict", o.strict, "Refuse to run when a protection cannot be enforced");
  app.add_option("--channel", o.channel, "Host file that receives what the program writes to fd 3");
  app.add_option("--zygote", o.zygote,
                 "Start the program as a fork of the zygote at this socket (warm start)");
  app.add_option("--serve-zygote", o.serve_zygote,
                 "Become a zygote listening at this socket (root only; see README.md)");
  app.add_option("--preload", o.preload, "With --serve-zygote: modules to import, comma-separated");
  app.add_option("--python", o.python,
                 "With --serve-zygote: the interpreter (default /usr/bin/python3)");
  app.add_flag("--cleanup", o.cleanup,
               "Remove the cgroups of runs whose supervisor is gone, print a JSON report, exit");
  app.add_flag("-v,--verbose", o.verbose, "Log each step");
  app.add_option("command", o.command, "PROGRAM [ARGS...] after --");
  app.positionals_at_end();
}

double seconds(const std::string& s, const char* name) {
  try {
    size_t used = 0;
    double v = std::stod(s, &used);
    if (used != s.size() || v < 0) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("--") + name + ": bad number of seconds '" + s + "'");
  }
}

// "SRC:DST" as (SRC, DST); without a colon, (S, S).
std::pair<std::string, std::string> split_pair(const std::string& s) {
  auto colon = s.find(':');
  return colon == std::string::npos ? std::pair{s, s}
                                    : std::pair{s.substr(0, colon), s.substr(colon + 1)};
}

// The command line's settings in the policy file's terms, so one reader (apply_json) checks
// both.
nlohmann::json options_as_policy(const Options& o) {
  nlohmann::json cli;
  if (!o.cpu.empty()) cli["cpu_time"] = seconds(o.cpu, "cpu-time");
  if (!o.wall.empty()) cli["wall_time"] = seconds(o.wall, "wall-time");
  for (const auto& [key, value] : {std::pair{"memory", &o.memory},
                                   {"pids", &o.pids},
                                   {"output", &o.output},
                                   {"file_size", &o.file_size},
                                   {"open_files", &o.open_files},
                                   {"network", &o.network},
                                   {"cwd", &o.cwd},
                                   {"stdin", &o.stdin_path},
                                   {"stdout", &o.stdout_path},
                                   {"stderr", &o.stderr_path}})
    if (!value->empty()) cli[key] = *value;
  if (!o.command.empty()) cli["argv"] = o.command;
  if (o.strict) cli["strict"] = true;
  if (!o.channel.empty()) cli["channel"] = o.channel;
  if (!o.zygote.empty()) cli["zygote"] = o.zygote;
  for (const auto& b : o.binds)
    cli["binds"].push_back(
        {{"src", split_pair(b).first}, {"dst", split_pair(b).second}, {"writable", true}});
  for (const auto& b : o.ro_binds)
    cli["binds"].push_back({{"src", split_pair(b).first}, {"dst", split_pair(b).second}});
  for (const auto& t : o.tmpfs) {
    auto [dst, size] = split_pair(t);
    nlohmann::json entry{{"dst", dst}};
    if (size != dst) entry["size"] = size;
    cli["tmpfs"].push_back(entry);
  }
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--env: expected NAME=VALUE, got '" + e + "'");
    cli["env"][e.substr(0, eq)] = e.substr(eq + 1);
  }
  return cli;
}

// The policy file, then the command line over it. Throws std::invalid_argument.
sandbox::Policy policy_of(const Options& o) {
  sandbox::Policy policy;
  if (!o.policy_file.empty()) {
    std::ifstream in(o.policy_file);
    if (!in) throw std::invalid_argument("cannot read policy file " + o.policy_file);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::invalid_argument(o.policy_file + ": " + e.what());
    }
    sandbox::apply_json(policy, j);
  }
  if (nlohmann::json cli = options_as_policy(o); !cli.is_null()) sandbox::apply_json(policy, cli);
  if (std::string bad = sandbox::validate(policy); !bad.empty()) throw std::invalid_argument(bad);
  return policy;
}

// The stderr logger is made when first needed: most runs log nothing, and every run starts a
// new grader-sandbox.
class Log {
 public:
  spdlog::logger& get() {
    if (!made_) {
      spdlog::set_default_logger(spdlog::stderr_color_st("grader-sandbox"));
      spdlog::set_pattern("grader-sandbox: %v");
      made_ = true;
    }
    return *spdlog::default_logger();
  }

 private:
  bool made_ = false;
};

int run_and_report(const sandbox::Policy& policy, const Options& o, Log& log) {
  sandbox::Result result = sandbox::run(policy, {o.verbose});
  if (!result.warnings.empty()) {
    // One clear warning per run, not one per missing protection.
    std::string all;
    for (const auto& w : result.warnings) all += (all.empty() ? "" : "; ") + w;
    log.get().warn("weaker isolation: {}", all);
  }
  if (result.verdict == sandbox::Verdict::SandboxError) log.get().error("{}", result.error);
  if (!write_result(o.result_file, sandbox::to_json(result))) {
    log.get().error("cannot write result to {}", o.result_file);
    return 1;
  }
  return result.verdict == sandbox::Verdict::SandboxError ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "grader-sandbox: run one untrusted command with limits and report exactly what happened.\n"
      "Exit status: 0 when the run was carried out (whatever its verdict), 1 when the sandbox\n"
      "could not do its job, 2 on bad usage."};
  Options o;
  add_options(app, o);
  CLI11_PARSE(app, argc, argv);
  if (o.cleanup) {
    std::vector<std::string> failures;
    int removed = sandbox::remove_stale_cgroups(failures);
    std::cout << nlohmann::json{{"removed", removed}, {"failures", failures}}.dump() << "\n";
    return failures.empty() ? 0 : 1;
  }
  if (!o.serve_zygote.empty()) {
    std::string error = sandbox::serve_zygote(o.serve_zygote, o.python, o.preload, o.env);
    std::cerr << "grader-sandbox: " << error << "\n";
    return 1;
  }
  sandbox::Policy policy;
  try {
    policy = policy_of(o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "grader-sandbox: " << e.what() << "\n";
    return 2;
  }
  Log log;
  if (o.verbose) log.get();  // sandbox::run logs with spdlog's default logger
  return run_and_report(policy, o, log);
}
