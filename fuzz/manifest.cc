// assignment.toml (grader/engine/manifest.h, load_manifest), which a TA writes and a course
// shares. Promises: a bad manifest is a ManifestError naming the file, never another
// exception. The folder holds the files the bundled manifests name, so that a mutation of a
// real manifest gets past the checks of its paths.
#include "grader/engine/manifest.h"

#include <cstdint>
#include <string>

#include "fuzz/fuzz.h"

namespace fs = std::filesystem;

namespace {

// solution/, handout/, hidden/ ... as empty stand-ins: every relative path a seed names.
void lay_out(const fs::path& dir) {
  for (const char* d : {"solution", "handout", "hidden", "public", "tests", "variants", "samples",
                        "data", "hidden/perf/nocache", "hidden/perf/naive"})
    fs::create_directories(dir / d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path dir = fuzz::fresh_dir("manifest");
  lay_out(dir);
  fuzz::write_file(dir / "assignment.toml", data, size);
  try {
    grader::Manifest m = grader::load_manifest(dir);
    grader::scale_time_limits(m, 2.5);
  } catch (const grader::ManifestError& e) {
    fuzz::check(std::string(e.what()).find("assignment.toml") != std::string::npos,
                std::string("a manifest error that does not name the file: ") + e.what());
  }
  return 0;
}
