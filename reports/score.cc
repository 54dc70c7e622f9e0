#include "reports/score.h"

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <pugixml.hpp>
#include <sstream>

#include "common/utf8.h"
#include "reports/atomic.h"

namespace reports {
using nlohmann::json;

namespace {

std::string text_or(const json& j, const char* key, const std::string& fallback = "") {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : fallback;
}

double number_or(const json& j, const char* key, double fallback = 0) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number()) ? it->get<double>() : fallback;
}

std::string gradescope_visibility(const std::string& ours, double max_score,
                                  const std::string& hidden_as) {
  if (ours == "public") return "visible";
  if (ours == "after_due_date") return "after_due_date";
  return max_score > 0 ? hidden_as : "hidden";
}

// The lines a reader wants before the tests: rejection, build failure, late penalty.
std::string summary_text(const json& score) {
  std::ostringstream out;
  const json& sub = score.value("submission", json::object());
  if (sub.contains("rejected") && sub["rejected"].is_string()) {
    out << "Submission rejected: " << sub["rejected"].get<std::string>() << "\n";
  }
  if (score.contains("build") && score["build"].is_object() &&
      score["build"].value("verdict", "ok") != "ok") {
    out << "Build failed (" << score["build"].value("verdict", "") << "):\n"
        << score["build"].value("output", "") << "\n";
  }
  const json& totals = score.value("totals", json::object());
  if (number_or(totals, "late_penalty") > 0) {
    out << fmt::format("Late by {} day(s): penalty {:.2f} points.\n", sub.value("late_days", 0),
                       number_or(totals, "late_penalty"));
  }
  return out.str();
}

}  // namespace

std::string printable_text(std::string_view in) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') {
        ++i;
        continue;
      }
      if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f)) {
        out.push_back(static_cast<char>(c));
      } else {
        out.append(kReplacement);
      }
      ++i;
      continue;
    }
    // Invalid UTF-8 and C1 controls (U+0080..U+009F) become U+FFFD, one per byte.
    const std::optional<common::Utf8Char> ch = common::utf8_char_at(in, i);
    if (ch && ch->code_point >= 0xA0) {
      out.append(in.substr(i, ch->length));
      i += ch->length;
    } else {
      out.append(kReplacement);
      ++i;
    }
  }
  return out;
}

void write_score_json(const std::filesystem::path& path, const json& score) {
  write_file_atomic(path, score.dump(2) + "\n");
}

json gradescope_results(const json& score, const std::string& hidden_as) {
  json out;
  out["execution_time"] = number_or(score, "duration_seconds");
  out["visibility"] = "visible";
  out["stdout_visibility"] = "hidden";
  if (text_or(score, "status") != "graded") {
    out["output"] =
        "This submission could not be graded because of a problem on the grading side (not "
        "your code): " +
        text_or(score, "ungradable_reason", "unknown reason") + ". It will be regraded.";
    out["extra_data"] = {{"status", "ungradable"}};
    out["tests"] = json::array();
    return out;
  }
  out["score"] = number_or(score["totals"], "final");
  out["output"] = summary_text(score);
  out["extra_data"] = {{"status", "graded"},
                       {"content_hash", text_or(score["submission"], "content_hash")},
                       {"assignment_hash", text_or(score["assignment"], "hash")}};
  json tests = json::array();
  for (const json& t : score.value("tests", json::array())) {
    std::string status = text_or(t, "status");
    json g;
    g["name"] = text_or(t, "name", text_or(t, "id"));
    g["score"] = number_or(t, "score");
    g["max_score"] = number_or(t, "max_score");
    g["status"] = status == "passed" ? "passed" : "failed";
    g["visibility"] = gradescope_visibility(text_or(t, "visibility", "hidden"),
                                            number_or(t, "max_score"), hidden_as);
    std::string output = text_or(t, "output");
    if (status == "not_run") output = "Not run. " + output;
    g["output"] = output;
    g["tags"] = json::array({text_or(t, "kind")});
    tests.push_back(std::move(g));
  }
  out["tests"] = std::move(tests);
  return out;
}

void write_gradescope_results(const std::filesystem::path& path, const json& score,
                              const std::string& hidden_as) {
  write_file_atomic(path, gradescope_results(score, hidden_as).dump(2) + "\n");
}

namespace {

struct JunitCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
};

void add_properties(pugi::xml_node suite, const json& score) {
  const json& sub = score.value("submission", json::object());
  auto props = suite.append_child("properties");
  auto property = [&](const char* name, const std::string& value) {
    auto p = props.append_child("property");
    p.append_attribute("name") = name;
    p.append_attribute("value") = value.c_str();
  };
  property("status", text_or(score, "status"));
  property("content_hash", text_or(sub, "content_hash"));
  if (score.contains("totals")) {
    property("score", fmt::format("{}", number_or(score["totals"], "final")));
    property("max_score", fmt::format("{}", number_or(score["totals"], "max")));
  }
}

// The grading's own cases: an ungradable submission is an error, a rejected one a failure.
void add_grading_cases(pugi::xml_node suite, const std::string& suite_name, const json& score,
                       JunitCounts& n) {
  if (text_or(score, "status") != "graded") {
    auto tc = suite.append_child("testcase");
    tc.append_attribute("classname") = suite_name.c_str();
    tc.append_attribute("name") = "grading";
    auto e = tc.append_child("error");
    e.append_attribute("message") = ("ungradable: " + text_or(score, "ungradable_reason")).c_str();
    ++n.tests;
    ++n.errors;
  }
  // A rejected submission is a failure a JUnit gate must see, and so is each test it lost.
  const std::string rejected = text_or(score.value("submission", json::object()), "rejected");
  if (!rejected.empty()) {
    auto tc = suite.append_child("testcase");
    tc.append_attribute("classname") = suite_name.c_str();
    tc.append_attribute("name") = "submission";
    auto f = tc.append_child("failure");
    f.append_attribute("message") = ("submission rejected: " + rejected).c_str();
    f.text() = rejected.c_str();
    ++n.tests;
    ++n.failures;
  }
}

void add_test_case(pugi::xml_node suite, const std::string& suite_name, const json& t,
                   bool rejected, JunitCounts& n) {
  auto tc = suite.append_child("testcase");
  tc.append_attribute("classname") = suite_name.c_str();
  tc.append_attribute("name") = text_or(t, "id").c_str();
  tc.append_attribute("time") = number_or(t, "wall_seconds");
  ++n.tests;
  std::string status = text_or(t, "status");
  std::string message = fmt::format("{}: {} of {} points ({})", status, number_or(t, "score"),
                                    number_or(t, "max_score"), text_or(t, "verdict", "no verdict"));
  pugi::xml_node detail;
  if (status == "failed" || status == "partial" || (status == "not_run" && rejected)) {
    detail = tc.append_child("failure");
    ++n.failures;
  } else if (status == "error") {
    detail = tc.append_child("error");
    ++n.errors;
  } else if (status == "not_run") {
    detail = tc.append_child("skipped");
    ++n.skipped;
  }
  if (detail) {
    detail.append_attribute("message") = message.c_str();
    detail.text() = text_or(t, "output").c_str();
  }
}

}  // namespace

std::string junit_xml(const json& score) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto suite = doc.append_child("testsuites").append_child("testsuite");
  const json& assignment = score.value("assignment", json::object());
  const json& sub = score.value("submission", json::object());
  const std::string suite_name =
      text_or(assignment, "id", "assignment") + "." + text_or(sub, "student", "student");
  suite.append_attribute("name") = suite_name.c_str();
  suite.append_attribute("timestamp") = text_or(score, "started_at").c_str();
  suite.append_attribute("time") = number_or(score, "duration_seconds");
  add_properties(suite, score);
  JunitCounts n;
  add_grading_cases(suite, suite_name, score, n);
  const bool rejected = !text_or(sub, "rejected").empty();
  for (const json& t : score.value("tests", json::array()))
    add_test_case(suite, suite_name, t, rejected, n);
  suite.append_attribute("tests") = n.tests;
  suite.append_attribute("failures") = n.failures;
  suite.append_attribute("errors") = n.errors;
  suite.append_attribute("skipped") = n.skipped;
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

void write_junit(const std::filesystem::path& path, const json& score) {
  write_file_atomic(path, junit_xml(score));
}

}  // namespace reports
