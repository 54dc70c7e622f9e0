#include "sandbox/result.h"

#include <cmath>
#include <stdexcept>

namespace sandbox {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Ok:
      return "ok";
    case Verdict::NonzeroExit:
      return "nonzero_exit";
    case Verdict::Signaled:
      return "signaled";
    case Verdict::TimeLimit:
      return "time_limit";
    case Verdict::MemoryLimit:
      return "memory_limit";
    case Verdict::OutputLimit:
      return "output_limit";
    case Verdict::ProcessLimit:
      return "process_limit";
    case Verdict::SandboxError:
      return "sandbox_error";
  }
  return "sandbox_error";
}

std::optional<Verdict> verdict_from_string(std::string_view name) {
  for (Verdict v :
       {Verdict::Ok, Verdict::NonzeroExit, Verdict::Signaled, Verdict::TimeLimit,
        Verdict::MemoryLimit, Verdict::OutputLimit, Verdict::ProcessLimit, Verdict::SandboxError})
    if (name == to_string(v)) return v;
  return std::nullopt;
}

nlohmann::json to_json(const VolumeResult& v) {
  return {{"dst", v.dst},
          {"size", v.size},
          {"inodes", v.inodes},
          {"bytes_used", v.bytes_used},
          {"inodes_used", v.inodes_used},
          {"full", v.full.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.full)},
          {"collected_files", v.collected_files},
          {"collected_bytes", v.collected_bytes},
          {"skipped", v.skipped},
          {"notes", v.notes}};
}

nlohmann::json to_json(const Result& r) {
  nlohmann::json volumes = nlohmann::json::array();
  for (const auto& v : r.volumes) volumes.push_back(to_json(v));
  auto opt = [](const std::optional<int>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {
      {"schema_version", kResultSchemaVersion},
      {"verdict", to_string(r.verdict)},
      {"limit_reason",
       r.limit_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.limit_reason)},
      {"exit_code", opt(r.exit_code)},
      {"signal", opt(r.signal)},
      {"cpu_seconds", r.cpu_seconds},
      {"wall_seconds", r.wall_seconds},
      {"peak_memory_bytes", r.peak_memory_bytes},
      {"stdout_bytes", r.stdout_bytes},
      {"stderr_bytes", r.stderr_bytes},
      {"truncated", r.truncated},
      {"enforced", r.enforced},
      {"volumes", volumes},
      {"channel_bytes", r.channel_bytes},
      {"start", r.start},
      {"start_note", r.start_note.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.start_note)},
      {"warnings", r.warnings},
      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
  };
}

}  // namespace sandbox

namespace sandbox {
namespace {

using nlohmann::json;

[[noreturn]] void bad_key(const std::string& where, const char* key, const char* expected) {
  throw std::invalid_argument("result key '" + where + key + "': expected " + expected);
}

// The value at `key`, or nullptr where it is absent or null.
const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

void read_text(const json& j, const char* key, std::string& out, const std::string& where = "") {
  if (const json* v = field(j, key)) {
    if (!v->is_string()) bad_key(where, key, "a string");
    out = v->get<std::string>();
  }
}

void read_count(const json& j, const char* key, uint64_t& out, const std::string& where = "") {
  if (const json* v = field(j, key)) {
    if (!v->is_number_unsigned()) bad_key(where, key, "a count (an integer >= 0)");
    out = v->get<uint64_t>();
  }
}

void read_seconds(const json& j, const char* key, double& out) {
  if (const json* v = field(j, key)) {
    if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < 0)
      bad_key("", key, "seconds (a finite number >= 0)");
    out = v->get<double>();
  }
}

void read_status(const json& j, const char* key, std::optional<int>& out) {
  if (const json* v = field(j, key)) {
    if (!v->is_number_integer() || v->get<int64_t>() < -255 || v->get<int64_t>() > 255)
      bad_key("", key, "an integer from -255 to 255");
    out = static_cast<int>(v->get<int64_t>());
  }
}

void read_texts(const json& j, const char* key, std::vector<std::string>& out,
                const std::string& where = "") {
  if (const json* v = field(j, key)) {
    if (!v->is_array()) bad_key(where, key, "a list of strings");
    for (const json& e : *v) {
      if (!e.is_string()) bad_key(where, key, "a list of strings");
      out.push_back(e.get<std::string>());
    }
  }
}

VolumeResult volume_from_json(const json& j, size_t index) {
  const std::string where = "volumes[" + std::to_string(index) + "].";
  if (!j.is_object()) throw std::invalid_argument("result key '" + where + "': expected an object");
  VolumeResult v;
  read_text(j, "dst", v.dst, where);
  read_count(j, "size", v.size, where);
  read_count(j, "inodes", v.inodes, where);
  read_count(j, "bytes_used", v.bytes_used, where);
  read_count(j, "inodes_used", v.inodes_used, where);
  read_text(j, "full", v.full, where);
  read_count(j, "collected_files", v.collected_files, where);
  read_count(j, "collected_bytes", v.collected_bytes, where);
  read_count(j, "skipped", v.skipped, where);
  read_texts(j, "notes", v.notes, where);
  return v;
}

}  // namespace

Result result_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("the result is not a JSON object");
  Result r;
  std::string verdict;
  read_text(j, "verdict", verdict);
  auto known = verdict_from_string(verdict);
  if (!known) bad_key("", "verdict", "one of the verdicts (ok, time_limit, ...)");
  r.verdict = *known;
  read_text(j, "limit_reason", r.limit_reason);
  read_status(j, "exit_code", r.exit_code);
  read_status(j, "signal", r.signal);
  read_seconds(j, "cpu_seconds", r.cpu_seconds);
  read_seconds(j, "wall_seconds", r.wall_seconds);
  read_count(j, "peak_memory_bytes", r.peak_memory_bytes);
  read_count(j, "stdout_bytes", r.stdout_bytes);
  read_count(j, "stderr_bytes", r.stderr_bytes);
  if (const json* v = field(j, "truncated")) {
    if (!v->is_boolean()) bad_key("", "truncated", "true or false");
    r.truncated = v->get<bool>();
  }
  if (const json* v = field(j, "enforced")) {
    if (!v->is_object()) bad_key("", "enforced", "an object of strings");
    for (const auto& [limit, by] : v->items()) {
      if (!by.is_string()) bad_key("enforced.", limit.c_str(), "a string");
      r.enforced[limit] = by.get<std::string>();
    }
  }
  if (const json* v = field(j, "volumes")) {
    if (!v->is_array()) bad_key("", "volumes", "a list");
    for (size_t i = 0; i < v->size(); ++i) r.volumes.push_back(volume_from_json((*v)[i], i));
  }
  read_count(j, "channel_bytes", r.channel_bytes);
  read_text(j, "start", r.start);
  read_text(j, "start_note", r.start_note);
  read_texts(j, "warnings", r.warnings);
  read_text(j, "error", r.error);
  return r;
}

}  // namespace sandbox
