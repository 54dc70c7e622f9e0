// Unified diffs of text files: how planted-bug variants and sample submissions are stored,
// as changes against an assignment's solution/ (assignments/README.md, "Variants"). Pure
// logic, text in and text out: grader/course/variants.h reads and writes the files.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace grader::patch {

// A patch that cannot be read or does not apply. The message says where and why.
struct PatchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One "@@ -a,b +c,d @@" block.
struct Hunk {
  size_t old_start = 0, old_count = 0, new_start = 0, new_count = 0;
  std::vector<std::string> lines;  // each starts with ' ' (context), '-' or '+'
  // "\ No newline at end of file" after the old side's, or the new side's, last line.
  bool old_missing_newline = false, new_missing_newline = false;
};

// One file's change. An empty path stands for /dev/null: the file is created or deleted.
struct FileDiff {
  std::string old_path, new_path;
  std::vector<Hunk> hunks;
  std::string path() const { return new_path.empty() ? old_path : new_path; }
};

// The unified diff (3 lines of context, paths a/PATH and b/PATH) that turns `before` into
// `after`; nullopt means the file does not exist. Empty when nothing changed.
std::string diff(const std::string& path, const std::optional<std::string>& before,
                 const std::optional<std::string>& after);

// Every file's change in a unified diff as diff(), `diff -ru` or `git diff` write it. Paths
// lose their first folder, as with `patch -p1` (a/f.py, solution/f.py: f.py). Lines outside a
// file's change (a preamble, git's "diff --git" and "index" lines) are ignored.
// Throws PatchError naming the line at fault.
std::vector<FileDiff> parse(std::string_view text);

// `before` (nullopt: absent) with `change` applied; nullopt when the change deletes the
// file. Each hunk applies exactly, without fuzz, at its line or at the nearest line where
// its old lines are found (the solution may have moved lines since). Throws PatchError.
std::optional<std::string> apply(const FileDiff& change, const std::optional<std::string>& before);

}  // namespace grader::patch
