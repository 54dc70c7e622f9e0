// Intake of one archive (ARCHIVE_SUFFIX: .zip, .tar or .tar.gz) whose bytes are the input.
// Promises (grader/engine/intake.h): the only error is an IntakeError; nothing is written outside
// the destination; on success it holds regular files and folders only, within the limits;
// on failure nothing is left at it.
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz/fuzz.h"
#include "grader/engine/intake.h"

#ifndef ARCHIVE_SUFFIX
#error "ARCHIVE_SUFFIX must name the archive type (.zip, .tar, .tar.gz)"
#endif

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxBytes = 256 << 10, kMaxFiles = 64;

// What lies under `dir`, checked: no links or special files; returns files and bytes.
std::pair<uint64_t, uint64_t> walk(const fs::path& dir) {
  uint64_t files = 0, bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::file_status st = e.symlink_status();
    if (fs::is_regular_file(st)) {
      ++files;
      bytes += e.file_size();
    } else if (fs::is_directory(st)) {
      ++files;  // folders count toward max_files too
    } else {
      fuzz::broken("intake staged something that is neither a file nor a folder: " +
                   e.path().string());
    }
  }
  return {files, bytes};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // root/in/submission<suffix> and root/out/staged: after intake, root holds in/, out/ and
  // what they held before, plus the staged copy: nothing else, at any depth.
  const fs::path root = fuzz::fresh_dir("intake");
  fs::create_directories(root / "in");
  fs::create_directories(root / "out");
  const fs::path archive = root / "in" / (std::string("submission") + ARCHIVE_SUFFIX);
  fuzz::write_file(archive, data, size);
  const fs::path dest = root / "out" / "staged";

  grader::IntakeRules rules;
  rules.required = {"main.py"};
  rules.max_bytes = kMaxBytes;
  rules.max_files = kMaxFiles;
  grader::IntakeStats stats;
  bool staged = false;
  try {
    grader::StagedSubmission s = grader::stage_submission(archive, dest, rules, &stats);
    staged = true;
    fuzz::check(s.dir == dest, "the staged folder is not the destination: " + s.dir.string());
    fuzz::check(s.bytes <= kMaxBytes, "staged more than max_bytes");
    fuzz::check(s.files <= kMaxFiles, "staged more than max_files");
    fuzz::check(fs::exists(s.dir / "main.py"), "a required file is missing from the staged copy");
  } catch (const grader::IntakeError&) {
  }
  fuzz::check(stats.decompressed_bytes <= grader::decompression_budget(kMaxBytes) + (64 << 10),
              "unpacked more than the decompression budget");

  // Nothing outside the destination.
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    fuzz::check(name == "in" || name == "out", "intake wrote outside its destination: " + name);
  }
  for (const auto& e : fs::directory_iterator(root / "in"))
    fuzz::check(e.path() == archive, "intake wrote beside the archive: " + e.path().string());
  for (const auto& e : fs::directory_iterator(root / "out"))
    fuzz::check(e.path() == dest, "intake wrote beside the destination: " + e.path().string());
  if (staged) {
    auto [files, bytes] = walk(dest);
    fuzz::check(bytes <= kMaxBytes, "the destination holds more than max_bytes");
    fuzz::check(files <= kMaxFiles, "the destination holds more than max_files");
  } else {
    fuzz::check(!fs::exists(fs::symlink_status(dest)), "a rejected submission left files behind");
  }
  return 0;
}
