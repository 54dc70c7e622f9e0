// The grading engine: one submission in, one score.json object out.
// The pipeline is a short sequence of named stages (see engine.cc):
//   intake -> build -> run tests -> check -> score -> write.
// Every run of student code (and every checker) is one grader-sandbox child.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "grader/engine/errors.h"
#include "reports/record.h"

namespace grader {

class Zygotes;

enum class Mode { Check, Grade };  // check: public tests only

struct GradeRequest {
  std::filesystem::path assignment_dir;  // resolved folder with assignment.toml
  std::filesystem::path submission;      // folder, .zip or .tar.gz
  std::string student = "local";
  std::optional<std::string> submitted_at;   // RFC 3339
  std::string submitted_at_source = "none";  // metadata|option|mtime|none
  Mode mode = Mode::Grade;
  std::filesystem::path scratch_root;        // staged copies and boxes (default: a temp dir)
  std::optional<double> due_extension_days;  // per-student extension (batch/gradebook)
  // A top-level meta.toml in a folder submission is metadata, not graded (grade/check of the
  // bundled samples; see IntakeRules::meta_toml_is_metadata). The caller reads it.
  bool meta_toml_is_metadata = false;
  // Multiplies every CPU and wall limit, for a host slower than the one the limits were set
  // on (like a judge host's time factor); recorded in score.json as host.time_scale.
  double time_scale = 1.0;
  // Check mode only (a student's `grader check --test ID -k EXPR`): the public tests to run
  // (all when empty), and a pytest -k expression for their pytest cases.
  std::vector<std::string> only_tests;
  std::string pytest_select;
  // Warm-start zygotes shared with other gradings of this process (batch, selftest); when
  // null, a grading whose manifest preloads modules starts its own.
  Zygotes* zygotes = nullptr;
};

// Returns the score.json object (reports/score.schema.json). Never throws for student
// faults; throws InputError for a bad manifest or request (a submitted_at that is not strict
// RFC 3339, a student id that breaks the rule of student_id.h). Infrastructure failures give
// status "ungradable" with a reason.
nlohmann::json grade(const GradeRequest& request);
// The same, as the typed record.
reports::Score grade_record(const GradeRequest& request);

// Marks a score whose grading folders could not all be removed (score.json's "cleanup",
// the first failure kept), and logs it.
void record_cleanup_failure(reports::Score& score, const std::string& error);

// An id under $GRADER_ASSIGNMENTS or <source>/assignments, or a path to a folder holding
// assignment.toml. Throws InputError when neither exists.
std::filesystem::path resolve_assignment(const std::string& id_or_path);

// The assignment folder's tree_hash (grader/engine/tree_hash.h), Python caches left out.
std::string assignment_hash(const std::filesystem::path& dir);

}  // namespace grader
