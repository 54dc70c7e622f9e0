#include "reports/record.h"

#include <fmt/format.h>

#include <stdexcept>

namespace reports {
namespace {

using nlohmann::json;

json nullable(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

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

std::optional<std::string> nullable_text(const json& j, const char* key) {
  if (at(j, key).is_null()) return std::nullopt;
  return typed<std::string>(j, key);
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
    j["peak_memory_bytes"] = t.usage->peak_memory_bytes;
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
  t.verdict = nullable_text(j, "verdict");
  t.limit_reason = nullable_text(j, "limit_reason");
  // Version 1 had only the flag.
  t.trust = j.contains("trust")               ? word<Trust>(j, "trust")
            : typed<bool>(j, "self_reported") ? Trust::SelfReported
                                              : Trust::Outputs;
  t.output = typed<std::string>(j, "output");
  if (j.contains("cases"))
    t.cases = Cases{typed<int64_t>(j["cases"], "passed"), typed<int64_t>(j["cases"], "total")};
  if (j.contains("check_verdict")) t.check_verdict = nullable_text(j, "check_verdict");
  if (j.contains("cpu_seconds"))
    t.usage = Usage{typed<double>(j, "cpu_seconds"), typed<double>(j, "wall_seconds"),
                    typed<uint64_t>(j, "peak_memory_bytes")};
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

std::vector<TestEntry> tests_of(const json& score) {
  std::vector<TestEntry> out;
  if (!score.contains("tests") || !score["tests"].is_array()) return out;
  for (const json& t : score["tests"]) out.push_back(test_entry_from_json(t));
  return out;
}

}  // namespace reports
