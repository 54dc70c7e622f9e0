// grader-sandbox's result JSON as the grader reads it (grader/box/sandbox_runner.h, read_result).
// The first byte is the supervisor's exit status, the rest the result file. Promises: never
// throws; a run is carried out only with status 0 and a verdict; times are finite and >= 0.
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/box/sandbox_runner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int status = data[0] % 4;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  grader::BoxResult r = grader::read_result(status, text, "log line");
  if (r.carried_out) {
    fuzz::check(status == 0, "a run with a non-zero supervisor status counted as carried out");
    fuzz::check(r.result.verdict != sandbox::Verdict::SandboxError && r.error.empty(),
                "a carried-out run with an error");
  } else {
    fuzz::check(!r.error.empty(), "a run not carried out without a reason");
  }
  fuzz::check(std::isfinite(r.result.cpu_seconds) && r.result.cpu_seconds >= 0,
              "a bad cpu_seconds");
  fuzz::check(std::isfinite(r.result.wall_seconds) && r.result.wall_seconds >= 0,
              "a bad wall_seconds");
  if (!r.carried_out)
    fuzz::check(r.result.verdict == sandbox::Verdict::SandboxError,
                "a run not carried out with a verdict other than sandbox_error");
  return 0;
}
