// A submission's meta.toml (grader/course/batch.h, read_meta_toml): the operator's metadata beside
// the bundled samples and batch folders. Promises: never throws; what it cannot read is a
// warning naming the file; a submission time it returns is RFC 3339.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz.h"
#include "grader/course/batch.h"
#include "grader/engine/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = fuzz::fresh_dir("meta") / "meta.toml";
  fuzz::write_file(file, data, size);
  std::vector<std::string> warnings;
  grader::batch::SubmissionMeta m = grader::batch::read_meta_toml(file, warnings);
  for (const std::string& w : warnings)
    fuzz::check(w.find(file.string()) != std::string::npos, "a warning without the file: " + w);
  if (m.submitted_at)
    fuzz::check(grader::parse_rfc3339(*m.submitted_at).has_value(),
                "a submission time that is not RFC 3339: " + *m.submitted_at);
  return 0;
}
