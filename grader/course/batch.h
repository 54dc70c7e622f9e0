// Batch grading: many submissions of one assignment into one output folder.
//
// Output folder layout (everything written atomically; a crash leaves only .tmp/ behind,
// which the next run removes):
//   DIR/summary.json, summary.csv, summary.html   the class summary (reports/summary.h)
//   DIR/students/<id>/score.json                 one grading (reports/README.md)
//   DIR/students/<id>/submission/                the staged copy that was graded
//   DIR/.tmp/                                     work in progress, never read
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "grader/engine/engine.h"
#include "grader/engine/student_id.h"

namespace grader::batch {

// One student's submission as found in SUBMISSIONS.
struct Entry {
  std::string student;           // keeps the rule of grader/engine/student_id.h
  std::filesystem::path source;  // folder or archive; empty for Canvas multi-file entries
  // Canvas downloads: the student's files and the names they get in the submission.
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  std::optional<std::string> submitted_at;   // RFC 3339 (UTC)
  std::string submitted_at_source = "none";  // metadata|mtime|none
  std::string name;                          // display name when the format has one
};

struct Discovery {
  std::string format;                 // folder | gradescope | canvas
  std::vector<Entry> entries;         // sorted by student id
  std::vector<std::string> warnings;  // entries that were ignored, duplicates, ...
};

// What a meta.toml beside a submission's files says (the bundled samples carry one; batch
// discovery, `grader grade` and `grader check` read it; it is never graded): `submitted_at`
// (an RFC 3339 string or a TOML date-time, returned as UTC) and `name`. What cannot be read
// is added to `warnings`, naming the file.
struct SubmissionMeta {
  std::optional<std::string> submitted_at;
  std::string name;
};
SubmissionMeta read_meta_toml(const std::filesystem::path& file,
                              std::vector<std::string>& warnings);

// Finds the submissions in `submissions` (a folder or a .zip of one). Zips are unpacked
// (through intake's checks) under `unpack_dir`. Throws InputError when the folder cannot be
// read or the Gradescope metadata is malformed.
Discovery discover(const std::filesystem::path& submissions,
                   const std::filesystem::path& unpack_dir);

// Maps any text to a student id that keeps the one rule (grader/engine/student_id.h); empty when
// nothing usable is left. Discovery maps folder, file and metadata names through it.
using grader::safe_student_id;

// Deterministic shards: `--shard K/N` (1 <= K <= N) takes the students whose FNV-1a hash of
// the id is K-1 modulo N.
struct Shard {
  int index = 1, count = 1;
};
std::optional<Shard> parse_shard(const std::string& text);
bool in_shard(const std::string& student, const Shard& shard);

// How many gradings may run at once: `requested` reduced so that the sum of each grading's
// memory limit stays within `mem_available` bytes (at least 1).
int fit_jobs_to_memory(int requested, uint64_t memory_per_grading, uint64_t mem_available);
uint64_t mem_available_bytes();  // MemAvailable from /proc/meminfo (0 when unknown)

// Per-student due-date extensions: CSV with a header holding "student" and "days" columns
// and an optional "assignment" column (empty or "*" means every assignment). Students are
// mapped through safe_student_id; days are finite numbers >= 0. InputError names the file
// and row of anything else. One reader for batch and the gradebook.
using ExtensionTable = std::map<std::pair<std::string, std::string>, double>;  // (student, a)
ExtensionTable read_extensions(const std::filesystem::path& csv);
// One assignment's: student -> days, its own row before a "*" row.
using Extensions = std::map<std::string, double>;
Extensions load_extensions(const std::filesystem::path& csv, const std::string& assignment_id);

struct Options {
  std::string assignment;  // id or path
  std::filesystem::path submissions;
  std::filesystem::path out;
  int jobs = 0;  // 0: number of CPUs
  bool force = false;
  std::optional<Shard> shard;
  std::optional<std::filesystem::path> extensions;
  double time_scale = 1.0;    // GradeRequest::time_scale
  bool progress_tty = false;  // one updating line instead of a line per submission
  int verbosity = 0;
};

struct Result {
  int total = 0, graded = 0, skipped = 0, ungradable = 0;
  std::vector<std::pair<std::string, std::string>> ungradable_list;  // student, reason
  std::string summary_html;
};

// Grades every submission (or its shard), writes DIR, returns the counts. Throws InputError
// for a bad assignment, SUBMISSIONS or option.
Result run(const Options& options);

// Folds shard outputs into `out` (identical to a single-machine run). Throws InputError when
// shards disagree (assignment hash, grader version) or one is missing.
Result merge(const std::vector<std::filesystem::path>& shard_dirs,
             const std::filesystem::path& out);

}  // namespace grader::batch
