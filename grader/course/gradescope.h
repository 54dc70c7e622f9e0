// Gradescope: the autograder zip an instructor uploads, and the grading run inside it.
// Gradescope's contract (see /work/shared/reference/graders.md): setup.sh runs once as root
// when the image is built; run_autograder runs per submission with /autograder/source (the
// zip), /autograder/submission, /autograder/submission_metadata.json, and reads
// /autograder/results/results.json.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "grader/engine/manifest.h"

namespace grader::gradescope {

struct PackageOptions {
  std::filesystem::path assignment_dir;  // holds assignment.toml
  std::filesystem::path out_zip;
  std::filesystem::path bin_dir;        // holds grader and grader-sandbox
  std::filesystem::path templates_dir;  // holds setup.sh and run_autograder
  int timeout_seconds = 540;            // run_autograder's budget (Gradescope's default is 10 min)
};

// The zip: setup.sh, run_autograder, grader.conf, bin/{grader,grader-sandbox}, lib/ (the
// binaries' shared libraries other than glibc's) and assignments/<id>/ without samples/ and
// variants/. Returns the zip's entries. Throws std::runtime_error naming the file at fault.
std::vector<std::string> write_autograder_zip(const PackageOptions& options);

// The longest one grading can take when every run of the student's code uses its whole wall
// limit: the build, then per test its runs (pytest and command 1; produce_check 2, 3 with a
// measured baseline; perf 3 runs and a check per pair, with the retries of noisy pairs).
double worst_case_seconds(const Manifest& manifest);

// Where setup.sh and run_autograder are: $GRADER_SHARE_DIR/gradescope, <exe>/../share/grader/
// gradescope, then the source tree's docker/. Throws std::runtime_error naming the paths tried.
std::filesystem::path find_templates_dir();

// What run_autograder needs from submission_metadata.json.
struct Metadata {
  std::optional<std::string> submitted_at;  // created_at, as RFC 3339 UTC
  std::optional<std::string> due_date;      // the student's own due date (extensions), else the
                                            // assignment's
  std::string student = "gradescope";       // first user's email, else the submission id
  std::vector<std::string> warnings;        // what was missing or malformed
};
Metadata read_metadata(const std::filesystem::path& file);

// Grades root/submission as run_autograder does and writes root/results/results.json (also
// when the submission is ungradable: then no score, extra_data.status = "ungradable").
// Returns 0 when graded, 3 (kExitUngradable) otherwise. Never throws.
int run(const std::filesystem::path& assignment_dir, const std::filesystem::path& root,
        std::ostream& log);

}  // namespace grader::gradescope
