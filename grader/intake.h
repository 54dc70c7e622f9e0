// Intake: turns a student's submission (folder, .zip, .tar.gz/.tgz, .tar) into a private
// staged copy, and copies files out of boxes without ever following a path a box controls.
// Every submission and every box output is hostile (see ../shared/DESIGN.md, "Trust").
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace grader {

struct IntakeRules {
  std::vector<std::string> required;  // relative paths that must be present
  std::vector<std::string> allowed;   // fnmatch globs on relative paths; empty allows all
  uint64_t max_bytes = 0;             // total staged size
  uint64_t max_files = 0;
};

struct StagedSubmission {
  std::filesystem::path dir;
  std::string content_hash;  // hash_tree(dir)
  uint64_t files = 0, bytes = 0;
};

// A rejected submission or box output. The message names the offending entry and the problem.
struct IntakeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Stages a folder, .zip or .tar.gz (also .tgz, .tar) into dest_dir (created; must not exist),
// never touching the original. Rejects path traversal, absolute paths, links, devices, FIFOs,
// names that are not valid UTF-8 or hold control characters, files not matching `allowed`,
// size/count over the limits and archive bombs (reading stops as soon as a cap is passed).
// Reports all missing required files in one message. `__MACOSX/` entries and `.DS_Store`
// files are dropped silently. A single top-level folder that wraps everything is unwrapped
// when the required files are found only inside it.
StagedSubmission stage_submission(const std::filesystem::path& source,
                                  const std::filesystem::path& dest_dir, const IntakeRules& rules);

// "sha256:<hex>" over the sorted relative paths and contents of the regular files in dir.
std::string hash_tree(const std::filesystem::path& dir);

struct CopyLimits {
  uint64_t max_bytes = 0;
  uint64_t max_files = 0;
};

// Copies what a box left in box_dir into dest (created if missing): regular files and
// directories only, each opened with openat + O_NOFOLLOW relative to a directory fd. Links,
// FIFOs, sockets and devices are skipped; the returned list names each skipped entry and why.
// Throws IntakeError past the caps.
std::vector<std::string> copy_box_outputs(const std::filesystem::path& box_dir,
                                          const std::filesystem::path& dest,
                                          const CopyLimits& limits);

// Copies a trusted tree (assignment files, staged copies): regular files and directories,
// keeping relative paths and exec bits. dst is created if missing.
void copy_tree(const std::filesystem::path& src, const std::filesystem::path& dst);

}  // namespace grader
