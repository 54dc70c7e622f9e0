// The class summary of one batch: summary.json (versioned, for programs), summary.csv (one
// row per student) and summary.html (self-contained: inline SVG figures, no external
// resource, a Content-Security-Policy that forbids loading any).
//
// The summary is a pure function of the assignment info and the score.json objects, so a
// merged set of shards and a single-machine run give the same files.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace reports {

inline constexpr int kSummarySchemaVersion = 1;

// `assignment`: {id, title, version, hash, points, due}; `scores`: score.json objects, any
// order; `shard`: null or {index, count}.
nlohmann::json class_summary(const nlohmann::json& assignment,
                             const std::vector<nlohmann::json>& scores,
                             const nlohmann::json& shard);

std::string summary_csv(const nlohmann::json& summary);
std::string summary_html(const nlohmann::json& summary);

// Writes summary.json, summary.csv and summary.html into dir, each atomically.
void write_summary(const std::filesystem::path& dir, const nlohmann::json& summary);

// Helpers shared with the gradebook writer.
std::string csv_row(const std::vector<std::string>& cells);  // RFC 4180, "\r\n" not used
std::string html_escape(std::string_view text);
std::string format_number(double value);  // shortest of "%.2f" without trailing zeros

}  // namespace reports
