#include "sandbox/result.h"

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
