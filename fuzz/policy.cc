// The sandbox's policy JSON (sandbox/policy.h), as grader-sandbox --policy reads it.
// Promises: a bad policy is a JSON parse error or std::invalid_argument, never another
// exception; validate() never throws; a policy survives to_json and apply_json unchanged.
#include "sandbox/policy.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  sandbox::Policy policy;
  try {
    sandbox::apply_json(policy, j);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  (void)sandbox::validate(policy);
  const nlohmann::json written = sandbox::to_json(policy);
  sandbox::Policy again;
  try {
    sandbox::apply_json(again, written);
  } catch (const std::invalid_argument& e) {
    fuzz::broken(std::string("to_json wrote a policy that apply_json refuses: ") + e.what());
  }
  fuzz::check(sandbox::to_json(again) == written,
              "a policy changed on its way through to_json and apply_json: " + written.dump());
  return 0;
}
