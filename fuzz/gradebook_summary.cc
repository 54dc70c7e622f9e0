// A batch output's summary.json as `grader gradebook` folds it (grader/course/gradebook.h): a file
// on disk that anything may have edited or cut short. Promises: a bad file is an InputError
// naming it, never another exception; what is built is written as CSV without throwing.
#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/course/gradebook.h"
#include "grader/engine/engine.h"
#include "reports/gradebook_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path dir = fuzz::fresh_dir("batch-out");
  const std::filesystem::path file = dir / "summary.json";
  fuzz::write_file(file, data, size);
  grader::GradebookOptions options;
  options.dirs = {dir};
  try {
    nlohmann::json book = grader::build_gradebook(options);
    (void)reports::gradebook_csv(book);
    (void)reports::canvas_csv(book);
    (void)book.dump();
  } catch (const grader::InputError& e) {
    fuzz::check(std::string(e.what()).find(dir.string()) != std::string::npos,
                std::string("an error that does not name the file: ") + e.what());
  }
  return 0;
}
