// score.json's per-test entry and totals as types, with their one JSON mapping (to_json and
// test_entry_from_json / totals_from_json): the engine builds them, the writers read them.
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
  uint64_t peak_memory_bytes = 0;
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

void to_json(nlohmann::json& j, const TestEntry& t);
void to_json(nlohmann::json& j, const Totals& t);

// Read back from score.json. Throws std::invalid_argument naming the key that is missing or
// of the wrong type; keys only some entries have may be absent.
TestEntry test_entry_from_json(const nlohmann::json& j);
Totals totals_from_json(const nlohmann::json& j);

// Every entry of score["tests"].
std::vector<TestEntry> tests_of(const nlohmann::json& score);

}  // namespace reports
