// Starts one grader-sandbox child per box run (common::spawn, waited on with a pidfd) and reads
// its result. The grader never runs student code itself. The contract with grader-sandbox is
// the sandbox's own: a sandbox::Policy written with sandbox::to_json, a sandbox::Result read
// with sandbox::result_from_json; nothing of it is spelled here a second time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "grader/box/limits.h"
#include "sandbox/policy.h"
#include "sandbox/result.h"

namespace grader {

// What a box gets by default for each writable folder, where the manifest sets no `disk` and
// `inodes`: room for any assignment's outputs, far below a disk's.
inline constexpr uint64_t kDefaultDisk = 256ull << 20;
inline constexpr int64_t kDefaultInodes = 20000;

struct BoxSpec {
  std::vector<std::string> argv;
  Limits limits;
  std::vector<sandbox::Bind> binds;  // read-only folders of ours
  // The box's writable folders: tmpfs capped by limits.disk and limits.inodes (their size and
  // inodes here are replaced), each filled from `seed` and copied back to `collect` (host
  // folders, both optional). Nothing the box writes reaches the host any other way.
  std::vector<sandbox::Tmpfs> volumes;
  std::filesystem::path channel;  // optional: host file that receives the program's fd 3
  std::string cwd = "/work";
  std::map<std::string, std::string> env;
  std::string zygote;  // optional: a warm-start zygote's socket (the sandbox falls back to cold)
};

struct BoxResult {
  bool carried_out = false;  // false: the sandbox could not do its job (see error)
  std::string error;
  sandbox::Result result;  // what grader-sandbox measured (verdict SandboxError unless carried_out)
  std::string output;  // stdout then stderr, head and tail, printable, at most ~max_output bytes

  bool ok() const { return result.verdict == sandbox::Verdict::Ok; }
  std::string verdict() const { return sandbox::to_string(result.verdict); }
};

// The policy a box's limits make: the sandbox's own defaults (sandbox::Policy) with the
// manifest's limits on top, so a limit the manifest leaves out is the sandbox's, named once.
sandbox::Policy limits_policy(const Limits& limits);

// The whole policy of one box: its limits, program, binds, volumes (capped by limits.disk and
// limits.inodes, else kDefaultDisk and kDefaultInodes), and output files in run_dir.
sandbox::Policy box_policy(const BoxSpec& spec, const std::filesystem::path& run_dir);

class SandboxRunner {
 public:
  explicit SandboxRunner(std::filesystem::path executable) : executable_(std::move(executable)) {}

  // $GRADER_SANDBOX, else grader-sandbox next to the running program (/proc/self/exe).
  static std::filesystem::path locate();

  // Runs one box. run_dir (created) receives policy.json, result.json, stdout.txt,
  // stderr.txt and sandbox.log; it must not be inside any bound folder.
  BoxResult run(const BoxSpec& spec, const std::filesystem::path& run_dir,
                size_t max_output = 4096) const;

  const std::filesystem::path& executable() const { return executable_; }

 private:
  std::filesystem::path executable_;
};

// What grader-sandbox's exit status, result JSON and log say of one run (all but the
// output excerpt): carried_out only for a result that sandbox::result_from_json reads, status
// 0 and a verdict other than sandbox_error; else `error` says why. Never throws.
BoxResult read_result(int status, const std::string& result_text, const std::string& log);

// The head and tail of a host file, at most `budget` bytes in all, made printable.
std::string file_excerpt(const std::filesystem::path& path, size_t budget);

// Head and tail of a text, at most `budget` bytes in all (cut on byte boundaries, then
// made printable).
std::string text_excerpt(const std::string& text, size_t budget);

}  // namespace grader
