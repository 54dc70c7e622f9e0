// The limits of one box run as the grader holds them: from the manifest, with gaps filled
// from the runtime's defaults; sandbox_runner turns them into a sandbox::Policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grader {

// Limits of one sandbox run; unset values fall back to the runtime defaults, then to
// grader-sandbox's own defaults.
struct Limits {
  std::optional<double> cpu_time, wall_time;  // seconds
  std::optional<uint64_t> memory, output, file_size;
  std::optional<int64_t> pids, open_files;
  // Each writable folder of a run (/work, /out, /report) is a tmpfs with these caps.
  std::optional<uint64_t> disk;
  std::optional<int64_t> inodes;
  std::optional<std::string> network;  // none | loopback

  // The value grader-sandbox applies: this set's, or the sandbox's default (sandbox::Policy)
  // where it is unset. The defaults are written only there.
  double cpu_seconds() const;
  double wall_seconds() const;  // unset: the sandbox's multiple of the CPU limit
  uint64_t memory_bytes() const;

  // This set, with the gaps filled from `defaults`.
  Limits over(const Limits& defaults) const;
  // This set with its CPU and wall limits multiplied by `factor` (a slower host); unset ones
  // become grader-sandbox's defaults times `factor`.
  Limits time_scaled(double factor) const;
};

}  // namespace grader
