#include "fuzz/fuzz.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace fuzz {

namespace fs = std::filesystem;

namespace {

fs::path make_scratch() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/grader-fuzz-XXXXXX";
  if (!mkdtemp(pattern.data())) broken("cannot create a scratch folder under $TMPDIR");
  return pattern;
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch(), ec);
}

}  // namespace

const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = make_scratch();
    std::atexit(remove_scratch);
    return d;
  }();
  return dir;
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = scratch() / name;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) broken("cannot create " + dir.string() + ": " + ec.message());
  return dir;
}

void write_file(const fs::path& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) broken("cannot write " + path.string());
}

void broken(std::string_view what) {
  std::fprintf(stderr, "fuzz: promise broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace fuzz
