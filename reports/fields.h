// The closed sets of words that assignment.toml and score.json share (a test's kind,
// visibility, scoring, measure and trust), as enums with one table of names each. The
// manifest parses them, the engine and the JUnit and Gradescope writers use the enums, and
// score.json writes the names (to_json below).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace reports {

enum class TestKind { Pytest, ProduceCheck, Perf, Command };
enum class Visibility { Public, Hidden, AfterDueDate };
enum class Scoring { Proportional, AllOrNothing };
enum class Measure { Cpu, Wall };  // what a perf test times: CPU seconds or wall seconds
// How far a score can be believed (assignments/README.md, "Trust levels").
enum class Trust { Outputs, Measured, SelfReported };

template <typename E>
struct Names;  // Names<E>::table: every value with its name, in the order messages list them

template <>
struct Names<TestKind> {
  static constexpr std::array<std::pair<TestKind, std::string_view>, 4> table{
      {{TestKind::Pytest, "pytest"},
       {TestKind::ProduceCheck, "produce_check"},
       {TestKind::Perf, "perf"},
       {TestKind::Command, "command"}}};
};
template <>
struct Names<Visibility> {
  static constexpr std::array<std::pair<Visibility, std::string_view>, 3> table{
      {{Visibility::Public, "public"},
       {Visibility::Hidden, "hidden"},
       {Visibility::AfterDueDate, "after_due_date"}}};
};
template <>
struct Names<Scoring> {
  static constexpr std::array<std::pair<Scoring, std::string_view>, 2> table{
      {{Scoring::Proportional, "proportional"}, {Scoring::AllOrNothing, "all_or_nothing"}}};
};
template <>
struct Names<Measure> {
  static constexpr std::array<std::pair<Measure, std::string_view>, 2> table{
      {{Measure::Cpu, "cpu"}, {Measure::Wall, "wall"}}};
};
template <>
struct Names<Trust> {
  static constexpr std::array<std::pair<Trust, std::string_view>, 3> table{
      {{Trust::Outputs, "outputs"},
       {Trust::Measured, "measured"},
       {Trust::SelfReported, "self_reported"}}};
};

// The name of `value`, as assignment.toml and score.json spell it.
template <typename E>
constexpr std::string_view name(E value) {
  for (const auto& [v, n] : Names<E>::table)
    if (v == value) return n;
  return "?";  // not reached: every value is in its table
}

// The value named `text`, or nothing.
template <typename E>
constexpr std::optional<E> parse(std::string_view text) {
  for (const auto& [v, n] : Names<E>::table)
    if (n == text) return v;
  return std::nullopt;
}

// "a, b or c": the names, for an error message.
template <typename E>
std::string names_listed() {
  std::string out;
  const auto& table = Names<E>::table;
  for (size_t i = 0; i < table.size(); ++i) {
    if (i > 0) out += i + 1 == table.size() ? " or " : ", ";
    out += table[i].second;
  }
  return out;
}

// score.json holds the names (nlohmann finds these by argument-dependent lookup).
template <typename E, typename = decltype(Names<E>::table)>
void to_json(nlohmann::json& j, E value) {
  j = std::string(name(value));
}

}  // namespace reports
