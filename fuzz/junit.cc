// JUnit XML as a box that holds student code may write it (grader/engine/test_runs.h,
// count_junit_cases). Promises: a malformed report is a std::runtime_error, never another
// exception; passed <= reported, both >= 0.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/engine/test_runs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  try {
    auto [passed, reported] = grader::count_junit_cases(xml);
    fuzz::check(passed >= 0 && reported >= 0, "a negative count of cases");
    fuzz::check(passed <= reported, "more cases passed than were reported");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
