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

struct RosterRow {
  std::string name, id, sis_user_id, sis_login_id, section;
};

struct GradebookOptions {
  std::vector<std::filesystem::path> dirs;  // batch outputs (each holds summary.json)
  std::optional<std::filesystem::path> roster;
  std::optional<std::filesystem::path> extensions;
  double bucket_points = 50.0;  // the assignment bucket; split evenly over the assignments
  // Canvas's columns, so that an import fills the existing assignments instead of creating
  // new ones: a Canvas gradebook export (its "Name (ID)" headers and Points Possible row)
  // and/or explicit ids by assignment ("a1" -> "87568490"), which take precedence.
  std::optional<std::filesystem::path> canvas_export;
  std::map<std::string, std::string> canvas_ids;
};

// A Canvas gradebook column, "Name (ID)", and its points.
struct CanvasColumn {
  std::string header;   // as Canvas wrote it, e.g. "a1: Autodiff (87568490)"
  double points = 100;  // Points Possible (100 when unknown)
};

// The column of a Canvas export that belongs to assignment `id` titled `title`: its name is
// "<id>: <title>" or starts with the id followed by a non-alphanumeric character ("A1 -
// Autodiff", "a1"), case-insensitively. nullopt when none; InputError naming the file when
// more than one column matches.
std::optional<CanvasColumn> find_canvas_column(const std::vector<std::vector<std::string>>& rows,
                                               const std::string& id, const std::string& title,
                                               const std::filesystem::path& file);

// The gradebook as versioned JSON (schema_version 1): assignments[], students[] with per
// assignment {status: graded|missing|needs_attention, percent, late_days, late_penalty_percent,
// extension_days, self_reported_percent (graded only: the part of the raw percent earned on
// self_reported tests)}, bucket, flags[]; each assignment's canvas_column and canvas_points;
// warnings[] (a bucket over fewer than 5 assignments, Canvas columns without ids).
nlohmann::json build_gradebook(const GradebookOptions& options);

}  // namespace grader
