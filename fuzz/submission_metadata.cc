// A Gradescope export's submission_metadata.yml, as `grader batch` discovers a class from it
// (grader/course/batch.h, discover). The export holds one submission folder, sub_1. Promises: a bad
// file is an InputError naming it, never another exception; every entry found has a usable
// student id and a source inside the export.
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/course/batch.h"
#include "grader/engine/engine.h"
#include "grader/engine/student_id.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path root = fuzz::fresh_dir("export");
  const fs::path exported = root / "export";
  fs::create_directories(exported / "sub_1");
  fuzz::write_file(exported / "sub_1" / "main.py", nullptr, 0);
  const fs::path file = exported / "submission_metadata.yml";
  fuzz::write_file(file, data, size);
  try {
    grader::batch::Discovery d = grader::batch::discover(exported, root / "unpacked");
    for (const auto& e : d.entries) {
      fuzz::check(!grader::student_id_problem(e.student), "a discovered bad id: " + e.student);
      fuzz::check(e.source.parent_path() == exported,
                  "an entry outside the export: " + e.source.string());
    }
  } catch (const grader::InputError& e) {
    fuzz::check(std::string(e.what()).find(file.string()) != std::string::npos,
                std::string("an error that does not name the file: ") + e.what());
  }
  return 0;
}
