// Time limits inside a student's pytest run. pytest-timeout gives each case its own limit, so
// a loop in one function loses that function's cases; the budget plugin stops the session,
// with its report written, before one more such case could reach the run's own CPU or wall
// limit, whose kill would lose the report of every case that already ran.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "grader/engine/manifest.h"

namespace grader {

// Where the plugin lies in the box: written into the folder mounted at /grader, found through
// PYTHONPATH.
inline constexpr const char* kPytestPluginDir = "/grader/.grader-plugins";

// Each case's own time limit, or none where pytest-timeout is not installed beside the
// manifest's Debian python: a quarter of the tighter of the run's CPU and wall limits (at
// least 1 s), unless the test sets `case_timeout`.
std::optional<double> case_timeout_seconds(const Manifest& m, const TestSpec& t);

// pytest's arguments for both guards (empty where there is no case limit).
std::vector<std::string> case_limit_args(const Manifest& m, const TestSpec& t);

// Writes the budget plugin under `grader_dir` (the host folder that becomes /grader).
void write_pytest_plugin(const std::filesystem::path& grader_dir);

}  // namespace grader
