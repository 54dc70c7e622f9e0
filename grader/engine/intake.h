// Intake: turns a student's submission (folder, .zip, .tar.gz/.tgz, .tar) into a private
// staged copy, and copies files out of boxes without ever following a path a box controls.
// Every submission and every box output is hostile (see ../shared/DESIGN.md, "Trust").
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace grader {

struct IntakeRules {
  std::vector<std::string> required;  // relative paths that must be present
  std::vector<std::string> allowed;   // fnmatch globs on relative paths; empty allows all
  uint64_t max_bytes = 0;             // total staged size; must be > 0
  uint64_t max_files = 0;             // must be > 0 (else std::invalid_argument)
  // A top-level `meta.toml` of a folder submission is the operator's metadata (the bundled
  // samples carry one; `grader batch`, `grade` and `check` read it): not staged, listed as
  // ignored. Unless `required` names meta.toml itself.
  bool meta_toml_is_metadata = false;
};

// Something intake left out of the staged copy on purpose (clutter, metadata).
struct IgnoredEntry {
  std::string path;               // "src/__pycache__/", ".DS_Store", "meta.toml"
  std::string what;               // "Python bytecode cache", ...
  std::optional<uint64_t> files;  // archives: the entries under it; a folder submission's
  std::optional<uint64_t> bytes;  // ignored folders are never read, so these are unset
};

struct StagedSubmission {
  std::filesystem::path dir;
  std::string content_hash;           // hash_tree(dir)
  uint64_t files = 0, bytes = 0;      // what was staged: ignored entries do not count
  std::vector<IgnoredEntry> ignored;  // at most kMaxIgnoredListed, sorted by path
};

// What one intake read, filled whether it succeeded or not.
struct IntakeStats {
  // Archives: the most bytes unpacked, counting both the inflated .gz stream and every
  // entry's data (staged or ignored). Folders: the bytes read.
  uint64_t decompressed_bytes = 0;
};

inline constexpr size_t kMaxIgnoredListed = 100;  // further ignored paths are summed up in one

// The decompression budget of an archive: max_bytes + max(max_bytes, 8 MiB). The staged
// files may take max_bytes; the rest is room for clutter (caches, .git, __MACOSX) that is
// read only to be dropped. No archive makes the host unpack more than this (plus one 64 KiB
// buffer): unpacking stops there and the submission is rejected.
uint64_t decompression_budget(uint64_t max_bytes);

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
// and archive bombs: reading stops at the first staged byte past max_bytes, once all the bytes
// unpacked (every entry, ignored ones included, and for .gz the whole inflated stream) pass
// decompression_budget(max_bytes), or once they pass both 1 MiB and 100 times the archive's
// size. The gzip layer is inflated by intake itself, so even what the tar reader reads past
// on its own (headers, padding) is counted and capped. All missing required files are named
// in one message, each with a hint when a staged file differs from it only in case or by a
// copy suffix (" (1)", "-1", "_copy": "found 'Autodiff.py': rename it to 'autodiff.py'").
//
// Clutter is ignored, in archives and folders alike, at any depth: the folders `__pycache__`,
// `.pytest_cache`, `.ipynb_checkpoints`, `.git`, `.vscode`, `.idea`, `__MACOSX` and the files
// `*.pyc` and `.DS_Store`. Ignored entries are not staged, do not count toward max_bytes or
// max_files, and are listed in StagedSubmission::ignored; an archive's ignored bytes still
// count toward the decompression budget, and a folder's ignored folders are not read at all.
// A single top-level folder that wraps everything is unwrapped when more required files are
// found inside it than at the top. Staged files are 0644 and folders 0755, whatever the
// source says. On any error nothing is left at dest_dir. `stats`, when given, is filled
// whether or not the submission is accepted.
StagedSubmission stage_submission(const std::filesystem::path& source,
                                  const std::filesystem::path& dest_dir, const IntakeRules& rules,
                                  IntakeStats* stats = nullptr);

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
