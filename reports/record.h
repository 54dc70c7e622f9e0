// score.json as types (Score, and its TestEntry and Totals), with their one JSON mapping
// (to_json and score_from_json / test_entry_from_json / totals_from_json). The engine and
// batch build them; the JUnit and Gradescope writers read them; the summary and the
// gradebook still read the JSON leniently (reports/README.md).
// reports/score.schema.json documents the JSON; tests/test_reports.cc checks the mapping
// against it.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/fields.h"

namespace reports {

// 2: tests carry "trust", totals "self_reported_points"/"self_reported_score", perf tests
// their pairs. Additions only: a reader of version 1 reads version 2.
inline constexpr int kScoreSchemaVersion = 2;

enum class TestStatus { Passed, Failed, Partial, Error, NotRun };

template <>
struct Names<TestStatus> {
  static constexpr std::array<std::pair<TestStatus, std::string_view>, 5> table{
      {{TestStatus::Passed, "passed"},
       {TestStatus::Failed, "failed"},
       {TestStatus::Partial, "partial"},
       {TestStatus::Error, "error"},
       {TestStatus::NotRun, "not_run"}}};
};

struct Cases {
  int64_t passed = 0, total = 0;
  bool operator==(const Cases&) const = default;
};

// What the supervisor measured of the run a test's points come from.
struct Usage {
  double cpu_seconds = 0, wall_seconds = 0;
  std::optional<uint64_t> peak_memory_bytes;  // none: not measured (null in score.json)
  bool operator==(const Usage&) const = default;
};

// One element of score.json's "tests". A null JSON value is an empty optional; a key that
// only some kinds have is an optional too (check_verdict: absent, null or a verdict).
struct TestEntry {
  std::string id, name;
  Visibility visibility = Visibility::Hidden;
  TestKind kind = TestKind::Pytest;
  double score = 0, max_score = 0;
  TestStatus status = TestStatus::Failed;
  std::optional<std::string> verdict;       // the sandbox's verdict; none: no run
  std::optional<std::string> limit_reason;  // which limit a time_limit verdict hit
  Trust trust = Trust::Outputs;
  std::string output;
  std::optional<Cases> cases;
  std::optional<std::optional<std::string>> check_verdict;  // the checker box's verdict
  std::optional<Usage> usage;
  nlohmann::json perf;  // a perf test's measurement (score.schema.json); null: none

  bool operator==(const TestEntry&) const = default;
};

struct Totals {
  double raw = 0, max = 0, late_penalty = 0, final = 0, percent = 0;
  // Max points and points earned of the tests whose trust is self_reported (absent in
  // score.json files older than version 2, and in an ungradable score).
  std::optional<double> self_reported_points, self_reported_score;

  bool operator==(const Totals&) const = default;
};

enum class ScoreStatus { Graded, Ungradable };
enum class GradingMode { Grade, Check };

template <>
struct Names<ScoreStatus> {
  static constexpr std::array<std::pair<ScoreStatus, std::string_view>, 2> table{
      {{ScoreStatus::Graded, "graded"}, {ScoreStatus::Ungradable, "ungradable"}}};
};
template <>
struct Names<GradingMode> {
  static constexpr std::array<std::pair<GradingMode, std::string_view>, 2> table{
      {{GradingMode::Grade, "grade"}, {GradingMode::Check, "check"}}};
};

struct AssignmentRef {
  std::string id, title, version, hash;
  bool operator==(const AssignmentRef&) const = default;
};

// score.json's "submission": what was graded, and when it came in.
struct SubmissionInfo {
  std::string student;
  std::optional<std::string> content_hash;  // none: never staged
  std::optional<std::string> submitted_at;
  std::string submitted_at_source = "none";  // metadata, option, mtime or none
  int64_t late_days = 0;
  std::optional<std::string> due_at;  // with the student's extension
  int64_t files = 0, bytes = 0;
  std::optional<std::string> rejected;  // why intake refused the submission
  nlohmann::json ignored;               // what intake left out (an array); null: nothing
  // A batch grading's extension (null: none); absent from a single grading.
  std::optional<std::optional<double>> due_extension_days;
  bool operator==(const SubmissionInfo&) const = default;
};

// The whole of one score.json. host and build stay JSON: their shapes are the sandbox's
// facts and the build step's, documented in score.schema.json.
struct Score {
  int schema_version = kScoreSchemaVersion;
  ScoreStatus status = ScoreStatus::Graded;
  std::optional<std::string> ungradable_reason;
  AssignmentRef assignment;
  SubmissionInfo submission;
  std::string grader_version;
  GradingMode mode = GradingMode::Grade;
  nlohmann::json host = nlohmann::json::object();
  std::vector<TestEntry> tests;
  nlohmann::json build;  // null: no build step
  Totals totals;
  std::string started_at, finished_at;
  double duration_seconds = 0;
  std::vector<std::string> warnings;  // absent from score.json when empty
  // The first folder of the grading that could not be removed ("cleanup": {"ok": false,
  // "error": ...}); none: all went, and score.json has no "cleanup".
  std::optional<std::string> cleanup_error;

  bool operator==(const Score&) const = default;
};

void to_json(nlohmann::json& j, const TestEntry& t);
void to_json(nlohmann::json& j, const Totals& t);
void to_json(nlohmann::json& j, const Score& s);

// Read back from score.json. Throws std::invalid_argument naming the key that is missing or
// of the wrong type; keys only some entries have may be absent.
TestEntry test_entry_from_json(const nlohmann::json& j);
Totals totals_from_json(const nlohmann::json& j);
// A whole score.json of version 1 or 2; the bad key's path in the message ("tests[2]: ...").
Score score_from_json(const nlohmann::json& j);

// Every entry of score["tests"].
std::vector<TestEntry> tests_of(const nlohmann::json& score);

}  // namespace reports
