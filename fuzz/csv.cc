// The CSV files an operator brings (rosters, extensions, Canvas exports), read with
// grader/course/csv.h's read_csv. Promises: a bad file is an InputError naming it, never
// another exception; extension days are finite numbers >= 0 keyed by usable student ids.
#include "grader/course/csv.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/course/batch.h"
#include "grader/course/gradebook.h"
#include "grader/engine/engine.h"
#include "grader/engine/student_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = fuzz::fresh_dir("csv") / "extensions.csv";
  fuzz::write_file(file, data, size);
  auto names_file = [&](const grader::InputError& e) {
    fuzz::check(std::string(e.what()).find(file.string()) != std::string::npos,
                std::string("an error that does not name the file: ") + e.what());
  };
  try {
    auto rows = grader::read_csv(file);
    (void)grader::find_canvas_column(rows, "a1", "Autodiff", file);
  } catch (const grader::InputError& e) {
    names_file(e);
  }
  try {
    for (const auto& [student, days] : grader::batch::load_extensions(file, "a1")) {
      fuzz::check(!grader::student_id_problem(student), "an extension for a bad id: " + student);
      fuzz::check(std::isfinite(days) && days >= 0, "extension days that are not a number >= 0");
    }
  } catch (const grader::InputError& e) {
    names_file(e);
  }
  return 0;
}
