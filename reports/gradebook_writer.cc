#include "reports/gradebook_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "reports/atomic.h"
#include "reports/summary.h"

using nlohmann::json;

namespace reports {
namespace {

std::string percent_text(const json& v) {
  return v.is_number() ? format_number(v.get<double>()) : "";
}

std::string flags_text(const json& flags) {
  std::string out;
  for (const auto& f : flags) out += (out.empty() ? "" : "; ") + f.get<std::string>();
  return out;
}

}  // namespace

std::string gradebook_csv(const json& g) {
  std::vector<std::string> header = {"student", "id", "sis_user_id", "sis_login_id", "section"};
  for (const auto& a : g["assignments"]) {
    std::string id = a["id"];
    for (const char* col : {"_percent", "_status", "_late_days", "_penalty_percent",
                            "_extension_days", "_self_reported_percent"}) {
      header.push_back(id + col);
    }
  }
  header.push_back(fmt::format("bucket_of_{}", format_number(g["bucket_points"].get<double>())));
  header.push_back("flags");
  std::string out = csv_row(header);
  for (const auto& s : g["students"]) {
    std::vector<std::string> row = {s["name"], s["id"], s["sis_user_id"], s["sis_login_id"],
                                    s["section"]};
    for (const auto& a : g["assignments"]) {
      const json& c = s["assignments"][a["id"].get<std::string>()];
      std::string status = c["status"];
      row.push_back(status == "needs_attention" ? "needs attention" : percent_text(c["percent"]));
      row.push_back(status);
      row.push_back(c["late_days"].is_number() ? std::to_string(c["late_days"].get<int64_t>())
                                               : "");
      row.push_back(percent_text(c["late_penalty_percent"]));
      row.push_back(percent_text(c["extension_days"]));
      row.push_back(percent_text(c.value("self_reported_percent", json(nullptr))));
    }
    row.push_back(s["bucket"].is_number() ? percent_text(s["bucket"]) : "needs attention");
    row.push_back(flags_text(s["flags"]));
    out += csv_row(row);
  }
  return out;
}

std::string canvas_csv(const json& g) {
  std::vector<std::string> header = {"Student", "ID", "SIS User ID", "SIS Login ID", "Section"};
  // Canvas matches a column to an assignment by its "Name (ID)"; without an id it creates a
  // new assignment. Cells are points out of the column's Points Possible.
  std::vector<std::string> points = {"    Points Possible", "", "", "", ""};
  for (const auto& a : g["assignments"]) {
    header.push_back(
        a.value("canvas_column", json(nullptr)).is_string()
            ? a["canvas_column"].get<std::string>()
            : fmt::format("{}: {}", a["id"].get<std::string>(), a["title"].get<std::string>()));
    points.push_back(format_number(a.value("canvas_points", 100.0)));
  }
  std::string out = csv_row(header);
  out += csv_row(points);
  for (const auto& s : g["students"]) {
    std::vector<std::string> row = {s["name"], s["id"], s["sis_user_id"], s["sis_login_id"],
                                    s["section"]};
    for (const auto& a : g["assignments"]) {
      const json& c = s["assignments"][a["id"].get<std::string>()];
      // An ungradable one stays empty so that the import leaves Canvas's cell alone.
      const double scale = a.value("canvas_points", 100.0) / 100.0;
      row.push_back(
          c["status"] == "needs_attention" || !c["percent"].is_number()
              ? ""
              : format_number(std::round(c["percent"].get<double>() * scale * 100) / 100));
    }
    out += csv_row(row);
  }
  return out;
}

std::filesystem::path write_gradebook(const std::filesystem::path& file, const json& g) {
  std::filesystem::path stem = file.parent_path() / file.stem();
  std::filesystem::path canvas = stem.string() + ".canvas.csv";
  write_file_atomic(stem.string() + ".json", g.dump(2) + "\n");
  write_file_atomic(canvas, canvas_csv(g));
  write_file_atomic(file, gradebook_csv(g));
  return canvas;
}

}  // namespace reports
