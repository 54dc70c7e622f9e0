// The result of one run: the verdict and everything measured from outside the box.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sandbox {

inline constexpr int kResultSchemaVersion = 1;

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
  std::vector<std::string> warnings;
  std::string error;  // for SandboxError
};

nlohmann::json to_json(const Result& r);

}  // namespace sandbox
