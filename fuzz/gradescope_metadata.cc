// Gradescope's submission_metadata.json (grader/course/gradescope.h, read_metadata), which names
// the student and the submission time. Promises: never throws; what it cannot use becomes a warning
// that names the file; a submission time it returns is RFC 3339; the student id keeps the id rule.
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/course/gradescope.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = fuzz::fresh_dir("gradescope") / "submission_metadata.json";
  fuzz::write_file(file, data, size);
  grader::gradescope::Metadata m = grader::gradescope::read_metadata(file);
  for (const std::string& w : m.warnings)
    fuzz::check(w.find(file.string()) != std::string::npos, "a warning without the file: " + w);
  if (m.submitted_at)
    fuzz::check(grader::parse_rfc3339(*m.submitted_at).has_value(),
                "a submission time that is not RFC 3339: " + *m.submitted_at);
  fuzz::check(!grader::student_id_problem(m.student),
              "read_metadata returned a student id that breaks the rule: " + m.student);
  return 0;
}
