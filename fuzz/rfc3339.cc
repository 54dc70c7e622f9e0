// RFC 3339 times (grader/engine/manifest.h): due dates, --submitted-at, Gradescope and batch
// metadata. Promises: no exception; what parses is formatted and parsed back to the same
// second; a refusal always says why.
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/engine/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string problem;
  std::optional<int64_t> epoch = grader::parse_rfc3339(text, &problem);
  if (!epoch) {
    fuzz::check(!problem.empty(), "a refused time without a reason: " + text);
    return 0;
  }
  const std::string formatted = grader::format_rfc3339(*epoch);
  std::optional<int64_t> again = grader::parse_rfc3339(formatted);
  fuzz::check(again.has_value(), "format_rfc3339 wrote what parse_rfc3339 refuses: " + formatted);
  fuzz::check(*again == *epoch, "a time changed on its way through format and parse: " + text);
  return 0;
}
