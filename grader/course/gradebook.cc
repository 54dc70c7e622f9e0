#include "grader/course/gradebook.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "grader/course/batch.h"
#include "grader/course/bucket.h"
#include "grader/course/csv.h"
#include "grader/engine/engine.h"
#include "grader/engine/manifest.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace grader {

namespace {

std::vector<RosterRow> load_roster(const fs::path& csv) {
  auto rows = read_csv(csv);
  if (rows.empty()) return {};
  auto column = [&](std::initializer_list<const char*> names) -> int {
    for (size_t i = 0; i < rows[0].size(); ++i) {
      for (const char* n : names) {
        if (lower(rows[0][i]) == n) return static_cast<int>(i);
      }
    }
    return -1;
  };
  int name = column({"student", "name"}), id = column({"id", "student id", "student_id"}),
      sis_user = column({"sis user id", "sis_user_id"}),
      sis_login = column({"sis login id", "sis_login_id", "login"}), section = column({"section"});
  if (id < 0 && sis_user < 0 && sis_login < 0) {
    throw InputError(
        fmt::format("{}:1: needs one of the columns ID, SIS User ID, SIS Login ID", csv.string()));
  }
  std::vector<RosterRow> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    auto cell = [&](int i) {
      return i >= 0 && static_cast<size_t>(i) < rows[r].size() ? rows[r][i] : std::string();
    };
    // Canvas exports carry a "Points Possible" row under the header.
    if (lower(cell(name)).find("points possible") != std::string::npos) continue;
    RosterRow row{cell(name), cell(id), cell(sis_user), cell(sis_login), cell(section)};
    if (row.id.empty() && row.sis_user_id.empty() && row.sis_login_id.empty()) continue;
    out.push_back(row);
  }
  return out;
}

// (student, assignment) -> days; assignment "*" applies to all.
double as_number(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

// "Name (12345)" -> ("Name", "12345"); nullopt when the header has no Canvas id.
std::optional<std::pair<std::string, std::string>> split_canvas_header(const std::string& h) {
  if (h.size() < 4 || h.back() != ')') return std::nullopt;
  size_t open = h.rfind(" (");
  if (open == std::string::npos) return std::nullopt;
  std::string digits = h.substr(open + 2, h.size() - open - 3);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
  return std::make_pair(h.substr(0, open), digits);
}

bool names_assignment(const std::string& name, const std::string& id, const std::string& title) {
  const std::string n = lower(name), i = lower(id);
  if (n == lower(id + ": " + title)) return true;
  return n.rfind(i, 0) == 0 && (n.size() == i.size() || !std::isalnum(uint8_t(n[i.size()])));
}

// Canvas columns by assignment id, from the export and the explicit ids.
std::map<std::string, CanvasColumn> canvas_columns(const GradebookOptions& o, const json& infos) {
  std::map<std::string, CanvasColumn> out;
  std::vector<std::vector<std::string>> rows;
  if (o.canvas_export) rows = read_csv(*o.canvas_export);
  for (const json& a : infos) {
    const std::string id = a.value("id", ""), title = a.value("title", "");
    if (o.canvas_export) {
      if (auto c = find_canvas_column(rows, id, title, *o.canvas_export)) out[id] = *c;
    }
    if (auto it = o.canvas_ids.find(id); it != o.canvas_ids.end()) {
      double points = out.count(id) ? out[id].points : 100.0;
      out[id] = {fmt::format("{}: {} ({})", id, title, it->second), points};
    }
  }
  for (const auto& [id, _] : o.canvas_ids) {
    bool known = false;
    for (const json& a : infos) known = known || a.value("id", "") == id;
    if (!known)
      throw InputError(
          fmt::format("--canvas-id {}: no such assignment among the batch outputs", id));
  }
  return out;
}

json gradebook_warnings(const json& infos, const std::map<std::string, CanvasColumn>& canvas) {
  json warnings = json::array();
  if (infos.size() < 5) {
    std::vector<std::string> ids;
    for (const json& a : infos) ids.push_back(a.value("id", ""));
    warnings.push_back(fmt::format(
        "the bucket counts {} of the 5 assignments ({}): the others count as 0, so it is a "
        "partial total",
        infos.size(), fmt::join(ids, ", ")));
  }
  if (canvas.size() < infos.size())
    warnings.push_back(
        "some Canvas import columns carry no Canvas assignment id: importing them creates new "
        "assignments instead of filling the existing ones (give --canvas-export with Canvas's "
        "gradebook export, or --canvas-id a1=ID)");
  return warnings;
}

}  // namespace

std::optional<CanvasColumn> find_canvas_column(const std::vector<std::vector<std::string>>& rows,
                                               const std::string& id, const std::string& title,
                                               const fs::path& file) {
  if (rows.empty()) return std::nullopt;
  std::optional<CanvasColumn> found;
  size_t found_at = 0;
  for (size_t c = 0; c < rows[0].size(); ++c) {
    auto split = split_canvas_header(rows[0][c]);
    if (!split || !names_assignment(split->first, id, title)) continue;
    if (found)
      throw InputError(
          fmt::format("{}:1: columns '{}' and '{}' both look like assignment {}; give "
                      "--canvas-id {}=ID",
                      file.string(), found->header, rows[0][c], id, id));
    found = CanvasColumn{rows[0][c], 100.0};
    found_at = c;
  }
  if (!found) return std::nullopt;
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].empty() || lower(rows[r][0]).find("points possible") == std::string::npos) continue;
    const std::string cell = found_at < rows[r].size() ? rows[r][found_at] : "";
    if (cell.empty()) break;  // unknown: out of 100
    size_t used = 0;
    double p = 0;
    try {
      p = std::stod(cell, &used);
    } catch (const std::exception&) {
    }
    if (used != cell.size() || !(p > 0))
      throw InputError(fmt::format("{}:{}: Points Possible of '{}' is '{}', not a number > 0",
                                   file.string(), r + 1, found->header, cell));
    found->points = p;
    break;
  }
  return found;
}

namespace {

// One field of a summary.json as the gradebook reads it: the JSON types it may have ('s'
// string, 'n' number, 'z' null, 'o' object, 'a' array, '*' any; '-' it may be missing, and
// is then filled with null so that reading it later finds it). "" when it is as expected.
std::string field_problem(json& parent, const std::string& where, const char* key,
                          std::string_view types) {
  if (!parent.contains(key)) {
    if (types.find('-') == std::string_view::npos)
      return fmt::format("{}.{} is missing", where, key);
    parent[key] = nullptr;
    return "";
  }
  const json& v = parent[key];
  const char kind = v.is_string()   ? 's'
                    : v.is_number() ? 'n'
                    : v.is_null()   ? 'z'
                    : v.is_object() ? 'o'
                    : v.is_array()  ? 'a'
                                    : 'b';
  if (types.find('*') != std::string_view::npos || types.find(kind) != std::string_view::npos ||
      (kind == 'z' && types.find('-') != std::string_view::npos))
    return "";
  return fmt::format("{}.{} is a JSON {}, not the expected {}", where, key, v.type_name(), types);
}

// Checks (and completes with nulls) the fields of a class summary the gradebook folds: a
// summary edited by hand or cut short is refused with the field named, never half-read.
std::string summary_problem(json& s) {
  if (!s.is_object()) return "not a JSON object";
  for (auto [key, types] :
       {std::pair{"kind", "s"}, {"assignment", "o"}, {"students", "a"}, {"shard", "-*"}})
    if (auto p = field_problem(s, "", key, types); !p.empty()) return p;
  json& a = s["assignment"];
  for (auto [key, types] : {std::pair{"id", "s"}, {"title", "-s"}, {"points", "-n"}, {"due", "-o"}})
    if (auto p = field_problem(a, "assignment", key, types); !p.empty()) return p;
  if (a["title"].is_null()) a["title"] = "";  // read as text (Canvas columns)
  if (a["due"].is_object()) {
    for (auto [key, types] :
         {std::pair{"date", "-s"}, {"late_percent_per_day", "-n"}, {"late_max_days", "-n"}})
      if (auto p = field_problem(a["due"], "assignment.due", key, types); !p.empty()) return p;
  }
  size_t i = 0;
  for (json& st : s["students"]) {
    const std::string where = fmt::format("students[{}]", i++);
    if (!st.is_object()) return where + " is not an object";
    for (auto [key, types] : {std::pair{"student", "s"},
                              {"status", "s"},
                              {"raw", "-n"},
                              {"max", "-n"},
                              {"percent", "-n"},
                              {"late_days", "-n"},
                              {"submitted_at", "-s"},
                              {"rejected", "-s"},
                              {"self_reported_score", "-n"},
                              {"ungradable_reason", "-*"}})
      if (auto p = field_problem(st, where, key, types); !p.empty()) return p;
  }
  return "";
}

}  // namespace

namespace {

// One batch output's summary, by student.
struct Assignment {
  json info;
  std::map<std::string, json> students;  // summary rows by student id
};

Assignment read_summary(const fs::path& dir) {
  fs::path file = dir / "summary.json";
  std::ifstream in(file);
  if (!in)
    throw InputError(
        fmt::format("{}: missing (is {} a 'grader batch' output?)", file.string(), dir.string()));
  json s;
  try {
    s = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: {}", file.string(), e.what()));
  }
  if (std::string problem = summary_problem(s); !problem.empty())
    throw InputError(fmt::format("{}: not a readable class summary: {}", file.string(), problem));
  if (s["kind"] != "class_summary")
    throw InputError(fmt::format("{}: not a class summary", file.string()));
  if (s["shard"].is_object())
    throw InputError(
        fmt::format("{}: holds one shard only; run 'grader merge' first", file.string()));
  Assignment a{s["assignment"], {}};
  for (const auto& st : s["students"]) a.students[st.value("student", "")] = st;
  return a;
}

// The batch outputs, by assignment id; each assignment once.
std::vector<Assignment> read_summaries(const std::vector<fs::path>& dirs) {
  std::vector<Assignment> assignments;
  for (const auto& dir : dirs) {
    Assignment a = read_summary(dir);
    for (const auto& other : assignments) {
      if (other.info["id"] == a.info["id"]) {
        throw InputError(
            fmt::format("{}: assignment {} given twice", dir.string(), a.info.value("id", "")));
      }
    }
    assignments.push_back(std::move(a));
  }
  std::sort(assignments.begin(), assignments.end(), [](const Assignment& a, const Assignment& b) {
    return a.info.value("id", "") < b.info.value("id", "");
  });
  return assignments;
}

struct Person {
  RosterRow row;
  std::set<std::string> keys;  // ids under which the batch may know them
  bool on_roster = false;
};

// Students: the roster (in its order), then anyone graded who is not on it.
std::vector<Person> people_of(const std::vector<RosterRow>& roster,
                              const std::vector<Assignment>& assignments) {
  std::vector<Person> people;
  for (const auto& r : roster) {
    Person p{r, {}, true};
    for (const auto& k : {r.id, r.sis_user_id, r.sis_login_id}) {
      if (!k.empty()) p.keys.insert(batch::safe_student_id(k));
    }
    people.push_back(p);
  }
  std::set<std::string> all_graded;
  for (const auto& a : assignments) {
    for (const auto& [id, _] : a.students) all_graded.insert(id);
  }
  std::set<std::string> matched;
  for (const auto& p : people) matched.insert(p.keys.begin(), p.keys.end());
  for (const auto& id : all_graded) {
    if (matched.count(id)) continue;
    Person p;
    p.row.name = id;
    p.row.sis_login_id = id;
    p.keys = {id};
    people.push_back(p);
  }
  return people;
}

json assignment_columns(const std::vector<Assignment>& assignments,
                        const std::map<std::string, CanvasColumn>& canvas, double weight) {
  json out = json::array();
  for (const auto& a : assignments) {
    auto c = canvas.find(a.info.value("id", ""));
    out.push_back({{"id", a.info["id"]},
                   {"title", a.info["title"]},
                   {"points", a.info["points"]},
                   {"due", a.info["due"]},
                   {"weight", weight},
                   {"canvas_column", c != canvas.end() ? json(c->second.header) : json(nullptr)},
                   {"canvas_points", c != canvas.end() ? c->second.points : 100.0}});
  }
  return out;
}

// A person's extension on one assignment: theirs for it, else theirs for every one ("*").
double extension_days(const batch::ExtensionTable& extensions, const Person& p,
                      const std::string& aid) {
  double ext = 0;
  for (const auto& k : p.keys) {
    if (auto it = extensions.find({k, aid}); it != extensions.end())
      ext = it->second;
    else if (auto all = extensions.find({k, "*"}); all != extensions.end() && ext == 0)
      ext = all->second;
  }
  return ext;
}

// The late rule of a summary's "due" block (late.h), as the manifest said it.
LateRule late_rule_of(const json& due) {
  LateRule rule;
  rule.due_epoch = parse_rfc3339(due["date"].is_string() ? due["date"].get<std::string>() : "");
  rule.percent_per_day = as_number(due["late_percent_per_day"]);
  if (due["late_max_days"].is_number()) rule.max_days = due["late_max_days"].get<double>();
  return rule;
}

// One graded submission's cell. Lateness is recomputed here, so that an extension granted
// after grading still counts; `flags` gets what a TA should look at.
json graded_cell(const json& info, const json& found, const std::string& key, double ext,
                 json& flags) {
  const std::string aid = info.value("id", "");
  if (found.value("rejected", json(nullptr)).is_string())
    flags.push_back(
        fmt::format("{}: submission rejected ({})", aid, found["rejected"].get<std::string>()));
  double raw = as_number(found["raw"]), max = as_number(found["max"]);
  double raw_percent = max > 0 ? 100.0 * raw / max : 0.0;
  double percent = as_number(found["percent"]);
  // Whole days, within what a semester can hold (a number cast beyond int64 is undefined).
  int64_t late_days = static_cast<int64_t>(std::clamp(as_number(found["late_days"]), 0.0, 36500.0));
  double penalty = raw_percent > 0 ? 100.0 * (1.0 - percent / raw_percent) : 0.0;
  const json& due = info["due"];
  const json& when = found["submitted_at"];
  if (due.is_object() && when.is_string()) {
    const LateRule rule = late_rule_of(due);
    const auto at = parse_rfc3339(when.get<std::string>());
    if (rule.due_epoch && at) {
      late_days = grader::late_days(rule, at, ext);
      penalty = late_penalty_percent(rule, late_days);
      percent = raw_percent * (1.0 - penalty / 100.0);
    }
  }
  if (late_days > 0)
    flags.push_back(fmt::format("{}: {} late day{}", aid, late_days, late_days == 1 ? "" : "s"));
  // How much of the raw percent rests on tests the student's own process reports.
  double forgeable = max > 0 ? 100.0 * as_number(found["self_reported_score"]) / max : 0.0;
  return {
      {"status", "graded"},         {"percent", percent},
      {"raw_percent", raw_percent}, {"self_reported_percent", std::round(forgeable * 100) / 100},
      {"late_days", late_days},     {"late_penalty_percent", penalty},
      {"student_key", key}};
}

// A person's row: a cell per assignment, the bucket, and the flags.
json student_row(const Person& p, const std::vector<Assignment>& assignments,
                 const batch::ExtensionTable& extensions, double per_assignment, bool have_roster) {
  json row = {{"name", p.row.name},
              {"id", p.row.id},
              {"sis_user_id", p.row.sis_user_id},
              {"sis_login_id", p.row.sis_login_id},
              {"section", p.row.section},
              {"on_roster", p.on_roster},
              {"assignments", json::object()}};
  json flags = json::array();
  std::vector<std::optional<double>> percents;
  for (const auto& a : assignments) {
    const std::string aid = a.info.value("id", "");
    const json* found = nullptr;
    std::string key;
    for (const auto& k : p.keys) {
      if (auto it = a.students.find(k); it != a.students.end()) {
        found = &it->second;
        key = k;
        break;
      }
    }
    const double ext = extension_days(extensions, p, aid);
    json cell = {{"extension_days", ext}};
    if (!found) {
      cell.update({{"status", "missing"},
                   {"percent", 0.0},
                   {"late_days", 0},
                   {"late_penalty_percent", 0.0}});
      flags.push_back(fmt::format("{}: missing", aid));
      percents.push_back(0.0);
    } else if ((*found)["status"] != "graded") {
      cell.update({{"status", "needs_attention"},
                   {"percent", nullptr},
                   {"late_days", nullptr},
                   {"late_penalty_percent", nullptr},
                   {"reason", (*found)["ungradable_reason"]}});
      flags.push_back(fmt::format("{}: needs attention (ungradable)", aid));
      percents.push_back(std::nullopt);
    } else {
      cell.update(graded_cell(a.info, *found, key, ext, flags));
      percents.push_back(cell["percent"].get<double>());
    }
    row["assignments"][aid] = cell;
  }
  if (!p.on_roster && have_roster) flags.push_back("not on the roster");
  const Bucket bucket = bucket_of(percents, per_assignment);
  row["bucket"] = bucket.total ? json(*bucket.total) : json(nullptr);
  row["bucket_so_far"] = bucket.so_far;
  row["needs_attention"] = !bucket.total;
  row["flags"] = flags;
  return row;
}

}  // namespace

json build_gradebook(const GradebookOptions& o) {
  const std::vector<Assignment> assignments = read_summaries(o.dirs);
  std::vector<RosterRow> roster;
  if (o.roster) roster = load_roster(*o.roster);
  batch::ExtensionTable extensions;
  if (o.extensions) extensions = batch::read_extensions(*o.extensions);
  const double per_assignment = o.bucket_points / 5.0;
  json infos = json::array();
  for (const auto& a : assignments) infos.push_back(a.info);
  const std::map<std::string, CanvasColumn> canvas = canvas_columns(o, infos);
  json students = json::array();
  for (const auto& p : people_of(roster, assignments))
    students.push_back(student_row(p, assignments, extensions, per_assignment, !roster.empty()));
  return {{"schema_version", 1},
          {"kind", "gradebook"},
          {"bucket_points", o.bucket_points},
          {"assignments", assignment_columns(assignments, canvas, per_assignment)},
          {"students", students},
          {"warnings", gradebook_warnings(infos, canvas)}};
}

}  // namespace grader
