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
  uint64_t max_bytes = 0;             // total staged size; must be > 0
  uint64_t max_files = 0;             // must be > 0 (else std::invalid_argument)
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

// Stages a folder, .zip or .tar.gz (also .tgz, .tar) into dest_dir (created; must not exist,
// else std::runtime_error), never touching the original. Throws IntakeError naming the entry
// and the problem for: path traversal ('..'), absolute paths, symbolic and hard links, devices,
// FIFOs, sockets, names that are not valid UTF-8 or hold control characters or backslashes,
// files not matching any `allowed` glob (fnmatch, flags 0, on the relative path, so "*.py"
// matches "src/a.py"), more than max_files files (or folders), more than max_bytes in all,
// and archive bombs: reading stops at the first byte past max_bytes, or once the expanded
// bytes pass both 1 MiB and 100 times the archive's size. All missing required files are
// named in one message. `__MACOSX/` entries and `.DS_Store` files are dropped silently. A
// single top-level folder that wraps everything is unwrapped when more required files are
// found inside it than at the top. Staged files are 0644 and folders 0755, whatever the
// source says. On any error nothing is left at dest_dir.
StagedSubmission stage_submission(const std::filesystem::path& source,
                                  const std::filesystem::path& dest_dir, const IntakeRules& rules);

// "sha256:<hex>" over the sorted relative paths and contents of the regular files in dir
// (empty folders, modes and times do not count). Links and other types throw IntakeError.
std::string hash_tree(const std::filesystem::path& dir);

struct CopyLimits {
  uint64_t max_bytes = 0;
  uint64_t max_files = 0;
};

// Copies what a box left in box_dir into dest (created if missing): regular files (0644) and
// folders only, each opened with openat + O_NOFOLLOW relative to a directory fd, box_dir
// itself included. Links, hard links, FIFOs, sockets and devices are skipped; the returned
// list names each skipped entry and why ("name: FIFO, not copied"). Throws IntakeError past
// max_files files (or folders) or max_bytes in all.
std::vector<std::string> copy_box_outputs(const std::filesystem::path& box_dir,
                                          const std::filesystem::path& dest,
                                          const CopyLimits& limits);

// Copies a trusted tree (assignment files, staged copies): regular files and folders, keeping
// relative paths and exec bits (modes become 0755 or 0644; setuid bits are dropped). dst is
// created if missing; existing files are overwritten. Other file types throw IntakeError.
void copy_tree(const std::filesystem::path& src, const std::filesystem::path& dst);

}  // namespace grader
