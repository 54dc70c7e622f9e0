// An assignment's planted-bug variants and sample submissions, each stored as a patch
// against its solution/ (grader/course/patch.h):
//   variants/<name>.patch    one per variant; variants/expected.toml has its [<name>] score, why
//   samples/<name>.patch     one per sample submission (the demo's class)
// `grader selftest`, the demo and the tests open them into scratch folders; `grader variant
// open` and `save` let an author edit one as a folder (assignments/README.md, "Variants").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

struct Variant {
  std::string name;             // "grad_overwrite"
  std::filesystem::path patch;  // variants/grad_overwrite.patch
  double score = 0;             // what selftest must get (variants only)
  std::string why;
};

// Sorted by name. Throws InputError naming the file: a patch without its expected.toml
// table, a table without its patch, a score that is not a number.
std::vector<Variant> list_variants(const std::filesystem::path& assignment_dir);
std::vector<Variant> list_samples(const std::filesystem::path& assignment_dir);

// Writes assignment_dir/solution with `patch` applied into `dest`, which must not exist.
// Throws InputError naming the patch, its file and hunk where it does not apply; `dest` is
// then removed.
void open_variant(const std::filesystem::path& assignment_dir, const std::filesystem::path& patch,
                  const std::filesystem::path& dest);

// The patch that turns assignment_dir/solution into `folder` (its regular files, by path;
// __pycache__ and .pytest_cache are left out). Throws InputError for a file that is not text
// or not a regular file.
std::string make_variant_patch(const std::filesystem::path& assignment_dir,
                               const std::filesystem::path& folder);

}  // namespace grader
