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

std::string gradescope_visibility(Visibility ours, double max_score, const std::string& hidden_as) {
  if (ours == Visibility::Public) return "visible";
  if (ours == Visibility::AfterDueDate) return "after_due_date";
  return max_score > 0 ? hidden_as : "hidden";
}

// The lines a reader wants before the tests: rejection, build failure, late penalty.
std::string summary_text(const Score& score) {
  std::ostringstream out;
  if (score.submission.rejected)
    out << "Submission rejected: " << *score.submission.rejected << "\n";
  if (score.build.is_object() && score.build.value("verdict", "ok") != "ok") {
    out << "Build failed (" << score.build.value("verdict", "") << "):\n"
        << score.build.value("output", "") << "\n";
  }
  if (score.totals.late_penalty > 0) {
    out << fmt::format("Late by {} day(s): penalty {:.2f} points.\n", score.submission.late_days,
                       score.totals.late_penalty);
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

json gradescope_results(const Score& score, const std::string& hidden_as) {
  json out;
  out["execution_time"] = score.duration_seconds;
  out["visibility"] = "visible";
  out["stdout_visibility"] = "hidden";
  if (score.status != ScoreStatus::Graded) {
    out["output"] =
        "This submission could not be graded because of a problem on the grading side (not "
        "your code): " +
        score.ungradable_reason.value_or("unknown reason") + ". It will be regraded.";
    out["extra_data"] = {{"status", "ungradable"}};
    out["tests"] = json::array();
    return out;
  }
  out["score"] = score.totals.final;
  out["output"] = summary_text(score);
  out["extra_data"] = {{"status", "graded"},
                       {"content_hash", score.submission.content_hash.value_or("")},
                       {"assignment_hash", score.assignment.hash}};
  json tests = json::array();
  for (const TestEntry& t : score.tests) {
    json g;
    g["name"] = t.name.empty() ? t.id : t.name;
    g["score"] = t.score;
    g["max_score"] = t.max_score;
    g["status"] = t.status == TestStatus::Passed ? "passed" : "failed";
    g["visibility"] = gradescope_visibility(t.visibility, t.max_score, hidden_as);
    g["output"] = t.status == TestStatus::NotRun ? "Not run. " + t.output : t.output;
    g["tags"] = json::array({name(t.kind)});
    tests.push_back(std::move(g));
  }
  out["tests"] = std::move(tests);
  return out;
}

json gradescope_results(const json& score, const std::string& hidden_as) {
  return gradescope_results(score_from_json(score), hidden_as);
}

void write_gradescope_results(const std::filesystem::path& path, const Score& score,
                              const std::string& hidden_as) {
  write_file_atomic(path, gradescope_results(score, hidden_as).dump(2) + "\n");
}

void write_gradescope_results(const std::filesystem::path& path, const json& score,
                              const std::string& hidden_as) {
  write_gradescope_results(path, score_from_json(score), hidden_as);
}

namespace {

struct JunitCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
};

void add_properties(pugi::xml_node suite, const Score& score) {
  auto props = suite.append_child("properties");
  auto property = [&](const char* name, const std::string& value) {
    auto p = props.append_child("property");
    p.append_attribute("name") = name;
    p.append_attribute("value") = value.c_str();
  };
  property("status", std::string(name(score.status)));
  property("content_hash", score.submission.content_hash.value_or(""));
  property("score", fmt::format("{}", score.totals.final));
  property("max_score", fmt::format("{}", score.totals.max));
}

// The grading's own cases: an ungradable submission is an error, a rejected one a failure.
void add_grading_cases(pugi::xml_node suite, const std::string& suite_name, const Score& score,
                       JunitCounts& n) {
  if (score.status != ScoreStatus::Graded) {
    auto tc = suite.append_child("testcase");
    tc.append_attribute("classname") = suite_name.c_str();
    tc.append_attribute("name") = "grading";
    auto e = tc.append_child("error");
    e.append_attribute("message") = ("ungradable: " + score.ungradable_reason.value_or("")).c_str();
    ++n.tests;
    ++n.errors;
  }
  // A rejected submission is a failure a JUnit gate must see, and so is each test it lost.
  const std::string rejected = score.submission.rejected.value_or("");
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

void add_test_case(pugi::xml_node suite, const std::string& suite_name, const TestEntry& t,
                   bool rejected, JunitCounts& n) {
  auto tc = suite.append_child("testcase");
  tc.append_attribute("classname") = suite_name.c_str();
  tc.append_attribute("name") = t.id.c_str();
  tc.append_attribute("time") = t.usage ? t.usage->wall_seconds : 0.0;
  ++n.tests;
  const std::string_view status = name(t.status);
  std::string message = fmt::format("{}: {} of {} points ({})", status, t.score, t.max_score,
                                    t.verdict.value_or("no verdict"));
  pugi::xml_node detail;
  if (t.status == TestStatus::Failed || t.status == TestStatus::Partial ||
      (t.status == TestStatus::NotRun && rejected)) {
    detail = tc.append_child("failure");
    ++n.failures;
  } else if (t.status == TestStatus::Error) {
    detail = tc.append_child("error");
    ++n.errors;
  } else if (t.status == TestStatus::NotRun) {
    detail = tc.append_child("skipped");
    ++n.skipped;
  }
  if (detail) {
    detail.append_attribute("message") = message.c_str();
    detail.text() = t.output.c_str();
  }
}

}  // namespace

std::string junit_xml(const Score& score) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto suite = doc.append_child("testsuites").append_child("testsuite");
  const std::string suite_name = score.assignment.id + "." + score.submission.student;
  suite.append_attribute("name") = suite_name.c_str();
  suite.append_attribute("timestamp") = score.started_at.c_str();
  suite.append_attribute("time") = score.duration_seconds;
  add_properties(suite, score);
  JunitCounts n;
  add_grading_cases(suite, suite_name, score, n);
  const bool rejected = score.submission.rejected.has_value();
  for (const TestEntry& t : score.tests) add_test_case(suite, suite_name, t, rejected, n);
  suite.append_attribute("tests") = n.tests;
  suite.append_attribute("failures") = n.failures;
  suite.append_attribute("errors") = n.errors;
  suite.append_attribute("skipped") = n.skipped;
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

std::string junit_xml(const json& score) { return junit_xml(score_from_json(score)); }

void write_junit(const std::filesystem::path& path, const Score& score) {
  write_file_atomic(path, junit_xml(score));
}

void write_junit(const std::filesystem::path& path, const json& score) {
  write_junit(path, score_from_json(score));
}

}  // namespace reports
