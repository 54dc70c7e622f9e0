// Shared by the fuzz targets (fuzz/README.md): a private scratch folder, bytes to a file, and
// the check that turns a broken promise into a crash that libFuzzer records with its input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace fuzz {

// This process's own folder under $TMPDIR (else /tmp), made on first use, removed at exit.
const std::filesystem::path& scratch();

// A fresh, empty folder `name` in scratch() (whatever an earlier input left there is removed).
std::filesystem::path fresh_dir(const std::string& name);

void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size);

// Prints "fuzz: promise broken: <what>" and aborts, so that the input is kept as a crash.
[[noreturn]] void broken(std::string_view what);

inline void check(bool promise_kept, std::string_view what) {
  if (!promise_kept) broken(what);
}

}  // namespace fuzz
