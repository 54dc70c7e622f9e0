// The small rules applied to text from outside: sizes (manifest and sandbox policy), student
// ids (folder names, metadata, CSV cells) and --shard. Promises: no exception other than the
// documented ones; safe_student_id always yields an id that keeps the rule (or nothing), and
// is idempotent; a shard that parses is 1 <= K <= N.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/course/batch.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"
#include "sandbox/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  (void)grader::parse_size(text);
  try {
    (void)sandbox::parse_size(text);
  } catch (const std::invalid_argument&) {
  }

  const std::string id = grader::safe_student_id(text);
  if (!id.empty()) {
    std::optional<std::string> problem = grader::student_id_problem(id);
    fuzz::check(!problem, "safe_student_id made an id that breaks the rule: " + id + ": " +
                              problem.value_or(""));
  }
  fuzz::check(grader::safe_student_id(id) == id, "safe_student_id is not idempotent: " + id);
  if (!grader::student_id_problem(text)) {
    fuzz::check(grader::safe_student_id(text) == text, "a good id was changed: " + text);
  }

  if (auto shard = grader::batch::parse_shard(text)) {
    fuzz::check(1 <= shard->index && shard->index <= shard->count,
                "a shard outside 1 <= K <= N: " + text);
    (void)grader::batch::in_shard(text, *shard);
  }
  return 0;
}
