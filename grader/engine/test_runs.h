// The four test kinds (pytest, produce_check, perf, command), each a function from one
// test of the manifest to one test entry of score.json. Internal to the engine.
#pragma once

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "grader/box/sandbox_runner.h"
#include "grader/engine/manifest.h"
#include "reports/record.h"

namespace grader {

// Something went wrong on the grading side (sandbox could not start, checker crashed
// without a report, disk full): the submission is ungradable, never a zero.
struct InfrastructureError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What every test run needs: the manifest, the runner, where the (built) submission lies,
// and a scratch folder for this grading.
struct GradingContext {
  const Manifest& manifest;
  SandboxRunner runner;
  std::filesystem::path scratch;    // private to this grading
  std::filesystem::path work_base;  // staged submission, or the build's result
  nlohmann::json enforced;          // from the first sandbox result (host facts)
  int run_counter = 0;
  std::string pytest_select;  // a pytest -k expression (grader check -k), or empty
  // Warm start: the zygote's socket for the manifest's preload (empty: every run starts cold),
  // and how the runs started; recorded in score.json as host.start.
  std::string zygote;
  std::string cold_note;  // why runs that could start warm started cold (the first reason)
  int warm_runs = 0, cold_runs = 0;

  // A fresh, empty folder scratch/runs/<n>-<label>.
  std::filesystem::path new_run_dir(const std::string& label);
};

// A test's score.json entry before anything ran: 0 points, failed, no verdict.
reports::TestEntry base_entry(const TestSpec& t);

// Runs one test and returns its score.json entry (score, status, verdict, output...).
// Throws InfrastructureError for grading-side failures.
reports::TestEntry run_test(GradingContext& ctx, const TestSpec& test);

// Runs the manifest's build step in a box; on success ctx.work_base becomes the built tree.
// Returns the score.json "build" object.
nlohmann::json run_build(GradingContext& ctx, const BuildSpec& build);

// Parses pytest's JUnit XML: (passed, reported cases). Throws std::runtime_error when the
// text is not JUnit XML.
std::pair<int64_t, int64_t> count_junit_cases(const std::string& xml);

// A note for a pytest test whose JUnit report has another number of cases than the manifest's
// `cases` ("" when they agree or the manifest names none).
std::string case_count_note(std::optional<int64_t> expected, int64_t reported);

// Test file paths in pytest's output as the student has them ("tests/test_x.py", not
// "../grader/handout/tests/test_x.py").
std::string student_view_paths(std::string text);

// Maps a measured speedup to a fraction of the points by the manifest's thresholds.
double perf_fraction(double speedup, const std::vector<std::pair<double, double>>& thresholds);

}  // namespace grader
