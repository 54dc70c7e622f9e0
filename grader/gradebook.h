// The gradebook: the five assignments' batch outputs folded into one row per student, the
// assignment bucket out of 50 (10% per assignment), and Canvas's import format.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace grader {

// A small RFC 4180 reader (quotes, doubled quotes, CRLF); throws InputError naming the file.
std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path);
std::string lower(std::string text);

struct RosterRow {
  std::string name, id, sis_user_id, sis_login_id, section;
};

struct GradebookOptions {
  std::vector<std::filesystem::path> dirs;  // batch outputs (each holds summary.json)
  std::optional<std::filesystem::path> roster;
  std::optional<std::filesystem::path> extensions;
  double bucket_points = 50.0;  // the assignment bucket; split evenly over the assignments
};

// The gradebook as versioned JSON (schema_version 1): assignments[], students[] with per
// assignment {status: graded|missing|needs_attention, percent, late_days, late_penalty_percent,
// extension_days, self_reported_percent (graded only: the part of the raw percent earned on
// self_reported tests)}, bucket, flags[].
nlohmann::json build_gradebook(const GradebookOptions& options);

}  // namespace grader
