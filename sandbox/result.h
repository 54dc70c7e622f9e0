// The result of one run: the verdict and everything measured from outside the box.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox {

inline constexpr int kResultSchemaVersion = 2;

enum class Verdict {
  Ok,
  NonzeroExit,
  Signaled,
  TimeLimit,
  MemoryLimit,
  OutputLimit,
  ProcessLimit,
  SandboxError,
};

const char* to_string(Verdict v);
// "time_limit" -> Verdict::TimeLimit; nothing for a name that is not a verdict.
std::optional<Verdict> verdict_from_string(std::string_view name);

// One of the policy's tmpfs after the run: what it held, and what was copied out of it.
struct VolumeResult {
  std::string dst;
  uint64_t size = 0, inodes = 0;             // the caps
  uint64_t bytes_used = 0, inodes_used = 0;  // at the end of the run
  std::string full;                          // "disk", "inodes" or empty
  uint64_t collected_files = 0, collected_bytes = 0, skipped = 0;
  std::vector<std::string> notes;  // the first skipped entries, "path: why"
};

struct Result {
  Verdict verdict = Verdict::SandboxError;
  std::string limit_reason;  // "cpu" or "wall" for TimeLimit
  std::optional<int> exit_code;
  std::optional<int> signal;
  double cpu_seconds = 0;
  double wall_seconds = 0;
  uint64_t peak_memory_bytes = 0;
  uint64_t stdout_bytes = 0;
  uint64_t stderr_bytes = 0;
  bool truncated = false;
  std::map<std::string, std::string>
      enforced;  // limit -> by what ("cgroup v1", "rlimit", "not enforced")
  std::vector<VolumeResult> volumes;
  uint64_t channel_bytes = 0;  // written to the channel (kept: at most channel_size)
  // "warm" (a zygote's fork) or "cold" (exec); with a zygote asked for, why it started cold.
  std::string start = "cold";
  std::string start_note;
  std::vector<std::string> warnings;
  std::string error;  // for SandboxError
};

nlohmann::json to_json(const Result& r);
// The inverse of to_json: the one reader of grader-sandbox's result file. `verdict` is
// required; every other key may be absent or null (its default), but a present key of the
// wrong type or a negative measure is refused. Throws std::invalid_argument naming the key.
Result result_from_json(const nlohmann::json& j);

}  // namespace sandbox
