#include "reports/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "reports/atomic.h"

using nlohmann::json;

namespace reports {
namespace {

bool is_limit(const std::string& verdict) {
  return verdict == "time_limit" || verdict == "memory_limit" || verdict == "output_limit" ||
         verdict == "process_limit";
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return "";
}

double num(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0.0;
}

// A test's trust level; score files of schema version 1 carry only `self_reported`.
std::string trust_of(const json& t) {
  if (t.contains("trust") && t["trust"].is_string()) return t["trust"].get<std::string>();
  return t.value("self_reported", false) ? "self_reported" : "";
}

// (max points, earned points) on self_reported tests: from the totals, else the tests.
std::pair<double, double> self_reported_of(const json& score) {
  const json& totals = score.value("totals", json::object());
  if (totals.contains("self_reported_points"))
    return {num(totals, "self_reported_points"), num(totals, "self_reported_score")};
  double points = 0, earned = 0;
  for (const auto& t : score.value("tests", json::array())) {
    if (trust_of(t) != "self_reported" || t.value("status", "") == "not_run") continue;
    points += num(t, "max_score");
    earned += num(t, "score");
  }
  return {points, earned};
}

json stats(std::vector<double> v) {
  if (v.empty()) return {{"count", 0}, {"median", nullptr}, {"max", nullptr}, {"mean", nullptr}};
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  size_t n = v.size();
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {
      {"count", n}, {"median", median}, {"max", v.back()}, {"mean", sum / n}, {"min", v.front()}};
}

}  // namespace

std::string format_number(double value) {
  if (!std::isfinite(value)) return "";
  std::string s = fmt::format("{:.2f}", value);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

std::string csv_row(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    std::string c = cells[i];
    // A spreadsheet would run a cell starting with these as a formula.
    if (!c.empty() && (c[0] == '=' || c[0] == '+' || c[0] == '@' ||
                       (c[0] == '-' && c.find_first_not_of("-0123456789.") != std::string::npos))) {
      c = "'" + c;
    }
    if (c.find_first_of(",\"\n\r") != std::string::npos) {
      std::string q = "\"";
      for (char ch : c) {
        if (ch == '"') q += '"';
        q += ch;
      }
      c = q + "\"";
    }
    out += c;
  }
  return out + "\n";
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string student_of(const json& s) { return s.at("submission").value("student", ""); }

// The tests in manifest order, as the first full score lists them.
struct Catalogue {
  std::vector<std::string> ids;
  std::map<std::string, json> meta;
};

Catalogue test_catalogue(const std::vector<json>& scores) {
  Catalogue c;
  for (const auto& s : scores) {
    for (const auto& t : s.value("tests", json::array())) {
      std::string id = t.value("id", "");
      if (c.meta
              .emplace(id, json{{"id", id},
                                {"name", t.value("name", id)},
                                {"max_score", num(t, "max_score")},
                                {"visibility", t.value("visibility", "")},
                                {"kind", t.value("kind", "")},
                                {"trust", trust_of(t)}})
              .second) {
        c.ids.push_back(id);
      }
    }
  }
  return c;
}

// What class_summary gathers as it walks the scores, student by student.
struct Tally {
  struct Test {
    std::map<std::string, int> status;
    std::vector<double> score, cpu, wall, memory;
    int limit_hits = 0;
  };
  std::map<std::string, Test> tests;
  json students = json::array(), limit_hits = json::array(), ungradable = json::array(),
       rejected = json::array();
  std::vector<double> percents;  // of the graded
};

// A student's row, before its tests.
json student_row(const json& s, const std::string& id) {
  const json& sub = s.at("submission");
  const json& totals = s.value("totals", json::object());
  auto [forgeable_points, forgeable_score] = self_reported_of(s);
  return {{"student", id},
          {"status", s.value("status", "")},
          {"ungradable_reason", s.value("ungradable_reason", json(nullptr))},
          {"rejected", sub.value("rejected", json(nullptr))},
          {"raw", num(totals, "raw")},
          {"max", num(totals, "max")},
          {"late_days", sub.value("late_days", 0)},
          {"late_penalty", num(totals, "late_penalty")},
          {"final", num(totals, "final")},
          {"percent", num(totals, "percent")},
          {"self_reported_points", forgeable_points},
          {"self_reported_score", forgeable_score},
          {"submitted_at", sub.value("submitted_at", json(nullptr))},
          {"submitted_at_source", sub.value("submitted_at_source", "none")},
          {"due_extension_days", sub.value("due_extension_days", json(nullptr))},
          {"content_hash", sub.value("content_hash", json(nullptr))},
          {"files", "students/" + id + "/"},
          {"tests", json::object()}};
}

// One graded test of one student into the class's figures.
void tally_test(Tally& tally, const std::string& student, const json& t) {
  const std::string tid = t.value("id", "");
  const std::string verdict =
      t.value("verdict", json(nullptr)).is_string() ? t["verdict"].get<std::string>() : "";
  Tally::Test& a = tally.tests[tid];
  a.status[t.value("status", "")]++;
  a.score.push_back(num(t, "score"));
  if (t.contains("cpu_seconds") && t["cpu_seconds"].is_number()) a.cpu.push_back(t["cpu_seconds"]);
  if (t.contains("wall_seconds") && t["wall_seconds"].is_number())
    a.wall.push_back(t["wall_seconds"]);
  if (t.contains("peak_memory_bytes") && t["peak_memory_bytes"].is_number())
    a.memory.push_back(t["peak_memory_bytes"]);
  if (!is_limit(verdict)) return;
  ++a.limit_hits;
  tally.limit_hits.push_back({{"student", student},
                              {"test", tid},
                              {"verdict", verdict},
                              {"limit_reason", t.value("limit_reason", json(nullptr))},
                              {"cpu_seconds", t.value("cpu_seconds", json(nullptr))},
                              {"wall_seconds", t.value("wall_seconds", json(nullptr))},
                              {"peak_memory_bytes", t.value("peak_memory_bytes", json(nullptr))}});
}

void tally_student(Tally& tally, const json& s) {
  const std::string id = student_of(s);
  const json& sub = s.at("submission");
  const bool graded = s.value("status", "") == "graded";
  json row = student_row(s, id);
  if (!graded) {
    tally.ungradable.push_back(
        {{"student", id}, {"reason", s.value("ungradable_reason", json(nullptr))}});
  } else {
    tally.percents.push_back(num(s.value("totals", json::object()), "percent"));
    if (sub.value("rejected", json(nullptr)).is_string())
      tally.rejected.push_back({{"student", id}, {"reason", sub["rejected"]}});
  }
  for (const auto& t : s.value("tests", json::array())) {
    row["tests"][t.value("id", "")] = {{"score", num(t, "score")},
                                       {"status", t.value("status", "")},
                                       {"verdict", t.value("verdict", json(nullptr))},
                                       {"limit_reason", t.value("limit_reason", json(nullptr))}};
    if (graded) tally_test(tally, id, t);
  }
  tally.students.push_back(std::move(row));
}

json test_rows(const Catalogue& catalogue, Tally& tally) {
  json tests = json::array();
  for (const auto& id : catalogue.ids) {
    Tally::Test& a = tally.tests[id];
    int runs = 0;
    for (const auto& [k, v] : a.status) runs += v;
    json t = catalogue.meta.at(id);
    t["counts"] = a.status;
    t["pass_rate"] = runs ? json(double(a.status["passed"]) / runs) : json(nullptr);
    t["score"] = stats(a.score);
    t["cpu_seconds"] = stats(a.cpu);
    t["wall_seconds"] = stats(a.wall);
    t["peak_memory_bytes"] = stats(a.memory);
    t["limit_hits"] = a.limit_hits;
    tests.push_back(std::move(t));
  }
  return tests;
}

// The points a submission's own process reports: listed so that nobody mistakes them for
// measured ones (assignments/README.md, "Trust levels").
json self_reported_block(const Catalogue& catalogue) {
  json ids = json::array();
  double points = 0;
  for (const auto& id : catalogue.ids) {
    const json& t = catalogue.meta.at(id);
    if (t["trust"] != "self_reported") continue;
    ids.push_back(id);
    points += t["max_score"].get<double>();
  }
  return {{"tests", ids}, {"points", points}};
}

json histogram_of(const std::vector<double>& percents) {
  json histogram = json::array();
  for (int b = 0; b < 10; ++b) {
    int count = 0;
    for (double p : percents) {
      int bin = std::clamp(static_cast<int>(std::floor(p / 10.0)), 0, 9);
      count += bin == b;
    }
    histogram.push_back({{"from", b * 10}, {"to", b * 10 + 10}, {"count", count}});
  }
  return histogram;
}

}  // namespace

json class_summary(const json& assignment, const std::vector<json>& scores_in, const json& shard) {
  std::vector<json> scores = scores_in;
  std::sort(scores.begin(), scores.end(),
            [&](const json& a, const json& b) { return student_of(a) < student_of(b); });
  const Catalogue catalogue = test_catalogue(scores);
  Tally tally;
  for (const auto& s : scores) tally_student(tally, s);
  return {{"schema_version", kSummarySchemaVersion},
          {"kind", "class_summary"},
          {"grader_version", GRADER_VERSION},
          {"assignment", assignment},
          {"shard", shard},
          {"counts",
           {{"students", scores.size()},
            {"graded", tally.percents.size()},
            {"ungradable", tally.ungradable.size()},
            {"rejected", tally.rejected.size()},
            {"limit_hits", tally.limit_hits.size()}}},
          {"percent", stats(tally.percents)},
          {"self_reported", self_reported_block(catalogue)},
          {"histogram", histogram_of(tally.percents)},
          {"tests", test_rows(catalogue, tally)},
          {"limit_hits", tally.limit_hits},
          {"ungradable", tally.ungradable},
          {"rejected", tally.rejected},
          {"students", tally.students}};
}

std::string summary_csv(const json& summary) {
  std::vector<std::string> header = {"student",
                                     "status",
                                     "percent",
                                     "final",
                                     "max",
                                     "raw",
                                     "late_days",
                                     "late_penalty",
                                     "submitted_at",
                                     "submitted_at_source",
                                     "due_extension_days"};
  std::vector<std::string> test_ids;
  for (const auto& t : summary["tests"]) test_ids.push_back(t["id"]);
  for (const auto& id : test_ids) header.push_back(id);
  header.push_back("self_reported_points");
  header.push_back("self_reported_score");
  header.push_back("ungradable_reason");
  header.push_back("rejected");
  std::string out = csv_row(header);
  for (const auto& s : summary["students"]) {
    bool graded = s["status"] == "graded";
    std::vector<std::string> row = {text_of(s["student"]),
                                    text_of(s["status"]),
                                    graded ? text_of(s["percent"]) : "",
                                    graded ? text_of(s["final"]) : "",
                                    text_of(s["max"]),
                                    graded ? text_of(s["raw"]) : "",
                                    text_of(s["late_days"]),
                                    text_of(s["late_penalty"]),
                                    text_of(s["submitted_at"]),
                                    text_of(s["submitted_at_source"]),
                                    text_of(s["due_extension_days"])};
    for (const auto& id : test_ids) {
      auto it = s["tests"].find(id);
      row.push_back(it != s["tests"].end() ? text_of((*it)["score"]) : "");
    }
    row.push_back(text_of(s.value("self_reported_points", json(0))));
    row.push_back(graded ? text_of(s.value("self_reported_score", json(0))) : "");
    row.push_back(text_of(s["ungradable_reason"]));
    row.push_back(text_of(s["rejected"]));
    out += csv_row(row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// HTML

namespace {

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
.muted{color:#666}.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}.bad{color:#b00020}.warn{border-color:#d6a21e}
sup.sr{color:#a66b00;font-size:9px;margin-left:2px}
table{border-collapse:collapse;margin-top:8px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
th{cursor:pointer;background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:8px 0}figcaption{color:#555;font-size:13px}svg text{font:11px sans-serif;fill:#333}
)";

// Sorts the student table by a clicked column; marks the page ready for the render check.
constexpr const char* kScript = R"(
(function(){
  var table=document.getElementById('students');
  if(table){
    var heads=table.querySelectorAll('th');
    heads.forEach(function(th,i){th.addEventListener('click',function(){
      var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      var dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir===1?'asc':'desc';
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
        var nx=parseFloat(x),ny=parseFloat(y);
        if(!isNaN(nx)&&!isNaN(ny))return (nx-ny)*dir;
        return x.localeCompare(y)*dir;});
      rows.forEach(function(r){body.appendChild(r);});
    });});
  }
  // Layout self-check for the render test: how many figure labels run past their figure.
  var clipped=0;
  document.querySelectorAll('svg').forEach(function(svg){
    var w=svg.viewBox.baseVal.width,h=svg.viewBox.baseVal.height;
    svg.querySelectorAll('text').forEach(function(t){
      var b=t.getBBox();
      if(b.x<0||b.y<0||b.x+b.width>w+0.5||b.y+b.height>h+0.5){clipped++;t.setAttribute('data-clipped','1');}
    });
  });
  document.documentElement.setAttribute('data-clipped-labels',String(clipped));
  document.documentElement.setAttribute('data-page-width',String(document.documentElement.scrollWidth));
  document.documentElement.setAttribute('data-ready','1');
})();
)";

std::string fmt_seconds(const json& v) {
  return v.is_number() ? fmt::format("{:.2f} s", v.get<double>()) : "–";
}
std::string fmt_mib(const json& v) {
  return v.is_number() ? fmt::format("{:.0f} MiB", v.get<double>() / (1024.0 * 1024.0)) : "–";
}

// A vertical bar chart of the score histogram.
std::string histogram_svg(const json& histogram) {
  int most = 1;
  for (const auto& b : histogram) most = std::max(most, b["count"].get<int>());
  const int w = 520, h = 220, left = 36, bottom = 30, top = 18;  // room for a full bar's count
  const double bw = (w - left - 10) / double(histogram.size());
  std::string svg = fmt::format(
      R"(<svg id="fig-histogram" role="img" aria-label="Score histogram" width="{}" height="{}" viewBox="0 0 {} {}">)",
      w, h, w, h);
  svg += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>)", left, h - bottom,
                     w - 10, h - bottom);
  svg += fmt::format(R"(<text x="4" y="{}">{}</text><text x="4" y="{}">0</text>)", top + 8, most,
                     h - bottom);
  int i = 0;
  for (const auto& b : histogram) {
    int c = b["count"];
    double bh = (h - bottom - top) * double(c) / most;
    double x = left + i * bw;
    svg += fmt::format(
        R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#4a78c2"><title>{}–{}%: {}</title></rect>)",
        x + 2, h - bottom - bh, bw - 4, bh, b["from"].get<int>(), b["to"].get<int>(), c);
    if (c)
      svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)",
                         x + bw / 2, h - bottom - bh - 3, c);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", x + bw / 2,
                       h - bottom + 14, b["from"].get<int>());
    ++i;
  }
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">percent</text>)", w - 10, h - 5);
  return svg + "</svg>";
}

// Horizontal bars, one row per test; `values` already scaled to [0, 1] of `max_label`.
struct Bar {
  std::string label, value_text;
  double fraction;
  std::string color;
};
// Width in pixels of `text` at the figures' 11px sans-serif, from above: wide enough for
// DejaVu Sans and Liberation Sans (digits and lower case are 0.55-0.65 em; a few capitals are
// wider), so a label never runs past its figure.
int text_width(const std::string& text) {
  int chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;  // UTF-8 code points
  return static_cast<int>(chars * 7.2) + 4;
}

std::string hbar_svg(const std::string& id, const std::string& label,
                     const std::vector<Bar>& bars) {
  const int row = 22, bar_w = 300;
  int label_w = 60, value_w = 60;
  for (const auto& b : bars) {
    label_w = std::max(label_w, text_width(b.label));
    value_w = std::max(value_w, text_width(b.value_text));
  }
  const int left = label_w + 10, width = left + bar_w + 6 + value_w + 4;
  int h = static_cast<int>(bars.size()) * row + 10;
  std::string svg = fmt::format(
      R"(<svg id="{}" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}">)", id,
      html_escape(label), width, h, width, h);
  int i = 0;
  for (const auto& b : bars) {
    int y = 5 + i * row;
    double f = std::clamp(b.fraction, 0.0, 1.0);
    svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", left - 6, y + 14,
                       html_escape(b.label));
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="16" fill="#eee"/>)", left, y + 2,
                       bar_w);
    svg += fmt::format(
        R"(<rect class="bar" x="{}" y="{}" width="{:.1f}" height="16" fill="{}"><title>{}: {}</title></rect>)",
        left, y + 2, bar_w * f, b.color, html_escape(b.label), html_escape(b.value_text));
    svg += fmt::format(R"(<text x="{}" y="{}">{}</text>)", left + bar_w + 6, y + 14,
                       html_escape(b.value_text));
    ++i;
  }
  return svg + "</svg>";
}

std::string test_label(const json& t) { return t.value("id", ""); }

// Which tests' points the student's own process reports, so a reader sees what rests on them.
std::string self_reported_section(const json& s) {
  const json& forgeable = s.value("self_reported", json::object());
  std::string h = "<h2>Self-reported points</h2>\n";
  if (!forgeable.is_object() || forgeable.value("tests", json::array()).empty()) {
    return h +
           "<p class=\"muted\">None: every test's score is re-checked or measured outside "
           "the student's code.</p>\n";
  }
  h += fmt::format(
      "<p>{} points rest on tests that run beside the student's code, which could have "
      "forged them (marked <sup class=\"sr\">SR</sup>; the students table shows each "
      "submission's share):</p>\n<ul id=\"self-reported-tests\">",
      format_number(num(forgeable, "points")));
  for (const auto& id : forgeable["tests"]) {
    for (const auto& t : s["tests"]) {
      if (t["id"] != id) continue;
      h += fmt::format("<li>{} ({}, {} points, {})</li>", html_escape(t.value("id", "")),
                       html_escape(t.value("name", "")), format_number(num(t, "max_score")),
                       html_escape(t.value("visibility", "")));
    }
  }
  return h + "</ul>\n";
}

}  // namespace

namespace {

// The document's head, the title and the version line.
std::string page_head(const json& s) {
  std::string h;
  const json& a = s["assignment"];
  std::string title = fmt::format("{} — {}", a.value("id", ""), a.value("title", ""));
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  h += "<title>" + html_escape(title) + " · class summary</title>\n<style>" + std::string(kStyle) +
       "</style></head><body>\n";
  h += "<h1>" + html_escape(title) + "</h1>\n";
  h += fmt::format(
      "<p class=\"muted\">version {} · {} · grader {}{}</p>\n", html_escape(a.value("version", "")),
      html_escape(a.value("hash", "")), html_escape(s.value("grader_version", "")),
      s["shard"].is_object() ? fmt::format(" · shard {}/{}", s["shard"]["index"].get<int>(),
                                           s["shard"]["count"].get<int>())
                             : "");
  return h;
}

// The cards of counts and figures, and what they warn of.
std::string summary_cards(const json& s) {
  std::string h;
  const json& counts = s["counts"];
  const json& pct = s["percent"];
  h += "<div class=\"cards\">";
  h += fmt::format("<div class=\"card\">students<b>{}</b></div>", counts["students"].get<int>());
  h += fmt::format("<div class=\"card\">graded<b>{}</b></div>", counts["graded"].get<int>());
  h += fmt::format("<div class=\"card{}\">ungradable<b>{}</b></div>",
                   counts["ungradable"].get<int>() ? " bad" : "", counts["ungradable"].get<int>());
  const int rejected_count = s["counts"].value("rejected", 0);
  h += fmt::format("<div class=\"card{}\" id=\"card-rejected\">rejected<b>{}</b></div>",
                   rejected_count ? " bad" : "", rejected_count);
  h += fmt::format("<div class=\"card\">median<b>{}</b></div>",
                   pct["median"].is_number() ? format_number(pct["median"]) + "%" : "–");
  h += fmt::format("<div class=\"card\">mean<b>{}</b></div>",
                   pct["mean"].is_number() ? format_number(pct["mean"]) + "%" : "–");
  h += fmt::format("<div class=\"card\">runs that hit limits<b>{}</b></div>",
                   counts["limit_hits"].get<int>());
  const json& forgeable = s.value("self_reported", json::object());
  const double forgeable_points = forgeable.is_object() ? num(forgeable, "points") : 0.0;
  h += fmt::format(
      "<div class=\"card{}\" id=\"card-self-reported\">self-reported points<b>{}</b></div>",
      forgeable_points > 0 ? " warn" : "", format_number(forgeable_points));
  h += "</div>\n";
  h += self_reported_section(s);

  return h;
}

// The histogram and the per-test bar charts.
std::string summary_charts(const json& s) {
  std::string h;
  h += "<h2>Score distribution</h2>\n<figure>" + histogram_svg(s["histogram"]) +
       "<figcaption>Final percent (after late penalties) of the graded "
       "submissions.</figcaption></figure>\n";

  std::vector<Bar> pass, cpu, wall, memory;
  double max_cpu = 0, max_wall = 0, max_mem = 0;
  for (const auto& t : s["tests"]) {
    auto v = [](const json& st) { return st["max"].is_number() ? st["max"].get<double>() : 0.0; };
    max_cpu = std::max(max_cpu, v(t["cpu_seconds"]));
    max_wall = std::max(max_wall, v(t["wall_seconds"]));
    max_mem = std::max(max_mem, v(t["peak_memory_bytes"]));
  }
  for (const auto& t : s["tests"]) {
    double rate = t["pass_rate"].is_number() ? t["pass_rate"].get<double>() : 0;
    const json& points = t["score"];
    const std::string mean_points =
        points["mean"].is_number()
            ? fmt::format(" · mean {} of {}",
                          format_number(std::round(points["mean"].get<double>() * 100) / 100),
                          format_number(num(t, "max_score")))
            : "";
    pass.push_back({test_label(t),
                    t["pass_rate"].is_number()
                        ? fmt::format("{:.0f}% passed", rate * 100) + mean_points
                        : "no runs",
                    rate,
                    rate >= 0.8   ? "#3c9a5f"
                    : rate >= 0.5 ? "#d6a21e"
                                  : "#c0392b"});
    auto med = [](const json& st) {
      return st["median"].is_number() ? st["median"].get<double>() : 0.0;
    };
    cpu.push_back({test_label(t),
                   fmt::format("median {} · max {}", fmt_seconds(t["cpu_seconds"]["median"]),
                               fmt_seconds(t["cpu_seconds"]["max"])),
                   max_cpu > 0 ? med(t["cpu_seconds"]) / max_cpu : 0, "#4a78c2"});
    wall.push_back({test_label(t),
                    fmt::format("median {} · max {}", fmt_seconds(t["wall_seconds"]["median"]),
                                fmt_seconds(t["wall_seconds"]["max"])),
                    max_wall > 0 ? med(t["wall_seconds"]) / max_wall : 0, "#7b61c2"});
    memory.push_back({test_label(t),
                      fmt::format("median {} · max {}", fmt_mib(t["peak_memory_bytes"]["median"]),
                                  fmt_mib(t["peak_memory_bytes"]["max"])),
                      max_mem > 0 ? med(t["peak_memory_bytes"]) / max_mem : 0, "#2a9d8f"});
  }
  h += "<h2>Pass rate per test</h2>\n<figure>" +
       hbar_svg("fig-pass-rate", "Pass rate per test", pass) +
       "<figcaption>Share of graded submissions that passed each test fully, and the mean "
       "points earned on it (partial credit included).</figcaption></figure>\n";
  h += "<h2>Time and memory per test</h2>\n<figure>" +
       hbar_svg("fig-cpu", "CPU time per test", cpu) +
       "<figcaption>CPU seconds (bar: median, scaled to the largest "
       "maximum).</figcaption></figure>\n";
  h += "<figure>" + hbar_svg("fig-wall", "Wall time per test", wall) +
       "<figcaption>Wall-clock seconds.</figcaption></figure>\n";
  h += "<figure>" + hbar_svg("fig-memory", "Peak memory per test", memory) +
       "<figcaption>Peak memory.</figcaption></figure>\n";

  return h;
}

// The runs that hit a limit.
std::string limit_hits_table(const json& s) {
  std::string h;
  h += fmt::format("<h2>Runs that hit limits ({})</h2>\n", s["limit_hits"].size());
  if (s["limit_hits"].empty()) {
    h += "<p class=\"muted\">None.</p>\n";
  } else {
    h += "<table "
         "id=\"limit-hits\"><thead><tr><th>student</th><th>test</th><th>verdict</th><th>cpu</"
         "th><th>wall</th><th>memory</th></tr></thead><tbody>\n";
    for (const auto& l : s["limit_hits"]) {
      std::string verdict = l.value("verdict", "");
      if (l["limit_reason"].is_string())
        verdict += " (" + l["limit_reason"].get<std::string>() + ")";
      h += fmt::format(
          "<tr><td><a href=\"students/{0}/score.json\">{0}</a></td><td>{1}</td><td>{2}</td><td "
          "class=\"n\">{3}</td><td class=\"n\">{4}</td><td class=\"n\">{5}</td></tr>\n",
          html_escape(l.value("student", "")), html_escape(l.value("test", "")),
          html_escape(verdict), fmt_seconds(l["cpu_seconds"]), fmt_seconds(l["wall_seconds"]),
          fmt_mib(l["peak_memory_bytes"]));
    }
    h += "</tbody></table>\n";
  }

  return h;
}

// The submissions that could not be graded.
std::string ungradable_table(const json& s) {
  std::string h;
  h += fmt::format("<h2 class=\"{}\">Ungradable ({})</h2>\n", s["ungradable"].empty() ? "" : "bad",
                   s["ungradable"].size());
  if (s["ungradable"].empty()) {
    h += "<p class=\"muted\">None: every submission was graded.</p>\n";
  } else {
    h +=
        "<table id=\"ungradable\"><thead><tr><th>student</th><th>reason</th></tr></thead><tbody>\n";
    for (const auto& u : s["ungradable"]) {
      h +=
          fmt::format("<tr><td><a href=\"students/{0}/score.json\">{0}</a></td><td>{1}</td></tr>\n",
                      html_escape(u.value("student", "")), html_escape(text_of(u["reason"])));
    }
    h += "</tbody></table>\n";
  }

  return h;
}

// The uploads intake refused (graded 0); nothing when there are none.
std::string rejected_table(const json& s) {
  std::string h;
  if (!s.value("rejected", json::array()).empty()) {
    h += fmt::format("<h2 class=\"bad\">Rejected submissions ({})</h2>\n", s["rejected"].size());
    h += "<p class=\"muted\">Graded 0 without running: intake refused the upload.</p>\n";
    h += "<table id=\"rejected\"><thead><tr><th>student</th><th>reason</th></tr></thead><tbody>\n";
    for (const auto& r : s["rejected"]) {
      h +=
          fmt::format("<tr><td><a href=\"students/{0}/score.json\">{0}</a></td><td>{1}</td></tr>\n",
                      html_escape(r.value("student", "")), html_escape(text_of(r["reason"])));
    }
    h += "</tbody></table>\n";
  }

  return h;
}

// One sortable row per student.
std::string students_table(const json& s) {
  std::string h;
  h += "<h2>Students</h2>\n<p class=\"muted\">Click a column to sort. Each name links to the "
       "student's score file; "
       "“files” opens the graded copy of the submission.</p>\n";
  h += "<table id=\"students\"><thead><tr><th>student</th><th>status</th><th>percent</th><th>late "
       "days</th><th>penalty</th>";
  for (const auto& t : s["tests"]) {
    bool forgeable_test = t.value("trust", "") == "self_reported";
    h += fmt::format("<th title=\"{}{}\">{}{}</th>", html_escape(t.value("name", "")),
                     forgeable_test ? " (self-reported)" : "", html_escape(t.value("id", "")),
                     forgeable_test ? "<sup class=\"sr\">SR</sup>" : "");
  }
  h += "<th title=\"points earned on self-reported tests (SR), which the student's code could "
       "have forged\">self-reported</th><th>files</th></tr></thead><tbody>\n";
  for (const auto& st : s["students"]) {
    std::string id = html_escape(st.value("student", ""));
    bool graded = st["status"] == "graded";
    bool was_rejected = st.value("rejected", json(nullptr)).is_string();
    h += fmt::format(
        "<tr><td><a href=\"students/{0}/score.json\">{0}</a></td><td class=\"{1}\"{2}>{3}</td>", id,
        graded && !was_rejected ? "" : "bad",
        was_rejected ? " title=\"" + html_escape(st["rejected"].get<std::string>()) + "\"" : "",
        !graded        ? "needs attention"
        : was_rejected ? "rejected"
                       : "graded");
    h += fmt::format("<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                     graded ? format_number(st["percent"]) : "", text_of(st["late_days"]),
                     format_number(st["late_penalty"]));
    for (const auto& t : s["tests"]) {
      auto it = st["tests"].find(t["id"].get<std::string>());
      if (it == st["tests"].end()) {
        h += "<td></td>";
        continue;
      }
      std::string v = text_of((*it)["verdict"]);
      h += fmt::format("<td class=\"n\" title=\"{}\">{}</td>",
                       html_escape((*it).value("status", "") + (v.empty() ? "" : " · " + v)),
                       format_number((*it)["score"]));
    }
    h += fmt::format("<td class=\"n sr-points\">{}</td>",
                     graded ? format_number(num(st, "self_reported_score")) + " / " +
                                  format_number(num(st, "self_reported_points"))
                            : "");
    h += fmt::format("<td><a href=\"students/{}/submission/\">files</a></td></tr>\n", id);
  }
  h += "</tbody></table>\n";
  return h;
}

}  // namespace

std::string summary_html(const json& s) {
  return page_head(s) + summary_cards(s) + summary_charts(s) + limit_hits_table(s) +
         ungradable_table(s) + rejected_table(s) + students_table(s) + "<script>" +
         std::string(kScript) + "</script>\n</body></html>\n";
}

void write_summary(const std::filesystem::path& dir, const json& summary) {
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  write_file_atomic(dir / "summary.csv", summary_csv(summary));
  write_file_atomic(dir / "summary.html", summary_html(summary));
}

}  // namespace reports
