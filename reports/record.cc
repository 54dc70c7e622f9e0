#include "reports/record.h"

#include <fmt/format.h>

#include <stdexcept>

namespace reports {
namespace {

using nlohmann::json;

// An optional as JSON: none is null.
template <typename T>
json nullable(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

const json& at(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key))
    throw std::invalid_argument(fmt::format("missing \"{}\"", key));
  return j[key];
}

template <typename T>
T typed(const json& j, const char* key) {
  const json& v = at(j, key);
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw std::invalid_argument(fmt::format("\"{}\" has the wrong type", key));
  }
}

template <typename E>
E word(const json& j, const char* key) {
  const std::optional<E> v = parse<E>(typed<std::string>(j, key));
  if (!v) throw std::invalid_argument(fmt::format("\"{}\" must be {}", key, names_listed<E>()));
  return *v;
}

// j[key], which must be there: null is none.
template <typename T = std::string>
std::optional<T> nullable_at(const json& j, const char* key) {
  if (at(j, key).is_null()) return std::nullopt;
  return typed<T>(j, key);
}

std::optional<double> optional_number(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return typed<double>(j, key);
}

}  // namespace

void to_json(json& j, const TestEntry& t) {
  j = {{"id", t.id},
       {"name", t.name},
       {"visibility", t.visibility},
       {"kind", t.kind},
       {"score", t.score},
       {"max_score", t.max_score},
       {"status", t.status},
       {"verdict", nullable(t.verdict)},
       {"limit_reason", nullable(t.limit_reason)},
       {"trust", t.trust},
       {"self_reported", t.trust == Trust::SelfReported},  // kept for version 1 readers
       {"output", t.output}};
  if (t.cases) j["cases"] = {{"passed", t.cases->passed}, {"total", t.cases->total}};
  if (t.check_verdict) j["check_verdict"] = nullable(*t.check_verdict);
  if (t.usage) {
    j["cpu_seconds"] = t.usage->cpu_seconds;
    j["wall_seconds"] = t.usage->wall_seconds;
    j["peak_memory_bytes"] = nullable(t.usage->peak_memory_bytes);
  }
  if (!t.perf.is_null()) j["perf"] = t.perf;
}

void to_json(json& j, const Totals& t) {
  j = {{"raw", t.raw},
       {"max", t.max},
       {"late_penalty", t.late_penalty},
       {"final", t.final},
       {"percent", t.percent}};
  if (t.self_reported_points) j["self_reported_points"] = *t.self_reported_points;
  if (t.self_reported_score) j["self_reported_score"] = *t.self_reported_score;
}

TestEntry test_entry_from_json(const json& j) {
  TestEntry t;
  t.id = typed<std::string>(j, "id");
  t.name = typed<std::string>(j, "name");
  t.visibility = word<Visibility>(j, "visibility");
  t.kind = word<TestKind>(j, "kind");
  t.score = typed<double>(j, "score");
  t.max_score = typed<double>(j, "max_score");
  t.status = word<TestStatus>(j, "status");
  t.verdict = nullable_at(j, "verdict");
  t.limit_reason = nullable_at(j, "limit_reason");
  // Version 1 had only the flag.
  t.trust = j.contains("trust")               ? word<Trust>(j, "trust")
            : typed<bool>(j, "self_reported") ? Trust::SelfReported
                                              : Trust::Outputs;
  t.output = typed<std::string>(j, "output");
  if (j.contains("cases"))
    t.cases = Cases{typed<int64_t>(j["cases"], "passed"), typed<int64_t>(j["cases"], "total")};
  if (j.contains("check_verdict")) t.check_verdict = nullable_at(j, "check_verdict");
  if (j.contains("cpu_seconds"))
    t.usage = Usage{typed<double>(j, "cpu_seconds"), typed<double>(j, "wall_seconds"),
                    nullable_at<uint64_t>(j, "peak_memory_bytes")};
  if (j.contains("perf")) t.perf = j["perf"];
  return t;
}

Totals totals_from_json(const json& j) {
  Totals t;
  t.raw = typed<double>(j, "raw");
  t.max = typed<double>(j, "max");
  t.late_penalty = typed<double>(j, "late_penalty");
  t.final = typed<double>(j, "final");
  t.percent = typed<double>(j, "percent");
  t.self_reported_points = optional_number(j, "self_reported_points");
  t.self_reported_score = optional_number(j, "self_reported_score");
  return t;
}

void to_json(json& j, const Score& s) {
  const SubmissionInfo& sub = s.submission;
  json submission = {{"student", sub.student},
                     {"content_hash", nullable(sub.content_hash)},
                     {"submitted_at", nullable(sub.submitted_at)},
                     {"submitted_at_source", sub.submitted_at_source},
                     {"late_days", sub.late_days},
                     {"due_at", nullable(sub.due_at)},
                     {"files", sub.files},
                     {"bytes", sub.bytes},
                     {"rejected", nullable(sub.rejected)}};
  if (!sub.ignored.is_null()) submission["ignored"] = sub.ignored;
  if (sub.due_extension_days) submission["due_extension_days"] = nullable(*sub.due_extension_days);
  j = {{"schema_version", s.schema_version},
       {"status", s.status},
       {"ungradable_reason", nullable(s.ungradable_reason)},
       {"assignment",
        {{"id", s.assignment.id},
         {"title", s.assignment.title},
         {"version", s.assignment.version},
         {"hash", s.assignment.hash}}},
       {"submission", std::move(submission)},
       {"grader", {{"version", s.grader_version}, {"mode", s.mode}}},
       {"host", s.host},
       {"tests", s.tests},
       {"build", s.build},
       {"totals", s.totals},
       {"started_at", s.started_at},
       {"finished_at", s.finished_at},
       {"duration_seconds", s.duration_seconds}};
  if (!s.warnings.empty()) j["warnings"] = s.warnings;
  if (s.cleanup_error) j["cleanup"] = {{"ok", false}, {"error", *s.cleanup_error}};
}

namespace {

AssignmentRef assignment_from_json(const json& j) {
  return {typed<std::string>(j, "id"), typed<std::string>(j, "title"),
          typed<std::string>(j, "version"), typed<std::string>(j, "hash")};
}

SubmissionInfo submission_from_json(const json& j) {
  SubmissionInfo s;
  s.student = typed<std::string>(j, "student");
  s.content_hash = nullable_at(j, "content_hash");
  s.submitted_at = nullable_at(j, "submitted_at");
  s.submitted_at_source = typed<std::string>(j, "submitted_at_source");
  s.late_days = typed<int64_t>(j, "late_days");
  if (j.contains("due_at")) s.due_at = nullable_at(j, "due_at");  // absent before due_at
  s.files = typed<int64_t>(j, "files");
  s.bytes = typed<int64_t>(j, "bytes");
  s.rejected = nullable_at(j, "rejected");
  if (j.contains("ignored")) s.ignored = typed<json::array_t>(j, "ignored");
  if (j.contains("due_extension_days"))
    s.due_extension_days = nullable_at<double>(j, "due_extension_days");
  return s;
}

// Runs `read` on j[key], naming the key in front of what it throws.
template <typename Read>
auto within(const json& j, const std::string& key, Read read) {
  const json& value = at(j, key.c_str());
  try {
    return read(value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(key + ": " + e.what());
  }
}

}  // namespace

Score score_from_json(const json& j) {
  Score s;
  s.schema_version = typed<int>(j, "schema_version");
  if (s.schema_version < 1 || s.schema_version > kScoreSchemaVersion)
    throw std::invalid_argument(
        fmt::format("\"schema_version\" {} is not 1 to {}", s.schema_version, kScoreSchemaVersion));
  s.status = word<ScoreStatus>(j, "status");
  s.ungradable_reason = nullable_at(j, "ungradable_reason");
  s.assignment = within(j, "assignment", assignment_from_json);
  s.submission = within(j, "submission", submission_from_json);
  s.grader_version =
      within(j, "grader", [](const json& g) { return typed<std::string>(g, "version"); });
  s.mode = within(j, "grader", [](const json& g) { return word<GradingMode>(g, "mode"); });
  s.host = typed<json::object_t>(j, "host");
  const json& tests = at(j, "tests");
  if (!tests.is_array()) throw std::invalid_argument("\"tests\" has the wrong type");
  for (size_t i = 0; i < tests.size(); ++i) {
    try {
      s.tests.push_back(test_entry_from_json(tests[i]));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("tests[{}]: {}", i, e.what()));
    }
  }
  s.build = at(j, "build");
  s.totals = within(j, "totals", totals_from_json);
  s.started_at = typed<std::string>(j, "started_at");
  s.finished_at = typed<std::string>(j, "finished_at");
  s.duration_seconds = typed<double>(j, "duration_seconds");
  if (j.contains("warnings")) s.warnings = typed<std::vector<std::string>>(j, "warnings");
  if (j.contains("cleanup"))
    s.cleanup_error =
        within(j, "cleanup", [](const json& c) { return typed<std::string>(c, "error"); });
  return s;
}

std::vector<TestEntry> tests_of(const json& score) {
  std::vector<TestEntry> out;
  if (!score.contains("tests") || !score["tests"].is_array()) return out;
  for (const json& t : score["tests"]) out.push_back(test_entry_from_json(t));
  return out;
}

}  // namespace reports
