// Time limits inside a student's pytest run. pytest-timeout gives each case its own limit, so
// a loop in one function loses that function's cases; the budget plugin
// (grader_pytest_budget.py, tested by tests/pytest_budget_test.py) keeps the run as a whole
// inside the box's CPU and wall limits (each case's wall limit cut to what the run has left,
// never loosened; a CPU timer for the CPU time left; the session stopped with its report
// written when nearly nothing is left), because the box's kill would lose the report of every
// case that already ran.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "grader/engine/manifest.h"

namespace grader {

// Where the plugin lies in the box: written into the folder mounted at /grader, found through
// PYTHONPATH (first, so no student module shadows it); it reads its budget from the
// environment (GRADER_PYTEST_BUDGET: the run's "cpu,wall" limits in seconds).
inline constexpr const char* kPytestPluginDir = "/grader/.grader-plugins";
inline constexpr const char* kPytestPlugin = "grader_pytest_budget";

// Both guards: pytest's arguments and GRADER_PYTEST_BUDGET's value; none where
// pytest-timeout is not installed beside the manifest's Debian python. Each case's own limit is
// a quarter of the tighter of the run's CPU and wall limits (at least 1 s), unless the test
// sets `case_timeout`.
struct CaseLimits {
  std::vector<std::string> args;
  std::string budget;
};
std::optional<CaseLimits> case_limits(const Manifest& m, const TestSpec& t);

// Writes the budget plugin under `grader_dir` (the host folder that becomes /grader).
void write_pytest_plugin(const std::filesystem::path& grader_dir);

}  // namespace grader
