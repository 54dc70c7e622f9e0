// assignment.toml: the manifest of one assignment folder (spec: assignments/README.md).
// load_manifest validates everything up front so the pipeline never meets a bad value;
// errors name the file, the line and the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "grader/box/limits.h"
#include "grader/engine/errors.h"
#include "grader/engine/late.h"
#include "reports/fields.h"

namespace grader {

using reports::Measure;
using reports::Scoring;
using reports::TestKind;
using reports::Trust;
using reports::Visibility;

// A manifest the grader cannot use. The message reads "FILE:LINE: KEY: problem".
struct ManifestError : InputError {
  using InputError::InputError;
};

struct TestSpec {
  std::string id, name;
  Visibility visibility = Visibility::Hidden;
  TestKind kind = TestKind::Pytest;
  double points = 0;
  std::vector<std::string> files;  // relative to the assignment folder
  std::vector<std::string> data;  // copied beside `files`, never given to pytest (folders expanded)
  std::vector<std::string> args;  // extra pytest args
  // pytest: seconds one case may take (pytest-timeout); default a quarter of the wall limit.
  std::optional<double> case_timeout;
  Scoring scoring = Scoring::Proportional;
  std::optional<int64_t> cases;
  Limits limits;  // already merged over the runtime defaults
  int64_t seed = 0;
  int line = 0;  // where the test starts in the manifest

  // How far the score can be believed (assignments/README.md, "Trust levels"). The loader
  // sets it (default_trust of the kind, or the manifest's `trust`, which may only lower it);
  // unset in a hand-made spec means the kind's default (trust_of).
  std::optional<Trust> trust;
  // The author accepts that a hidden or after_due_date self_reported test can be forged
  // by the student's code without anyone seeing it (the loader refuses such a test without).
  bool student_can_forge = false;

  // produce_check (check_files and expected also for perf)
  std::string produce;                   // driver run as `python3 /grader/<produce>`
  std::vector<std::string> check_files;  // pytest files of the checker box
  std::string expected;                  // folder mounted at /expected (may be empty)
  // produce_check: the driver also runs over this folder alone (a trusted solution), so that
  // the checker can compare what the sandbox measured of both runs (/measured/*.json).
  std::string measure_baseline;

  // perf and command
  std::vector<std::string> command;
  std::string baseline;  // perf: folder whose files replace the student's
  std::pair<int64_t, int64_t> iterations{1, 2};
  // perf: the counts of a pair whose runs start warm (forks of the zygote, start-up noise
  // thousandths of a second, not the tenths of an `import torch`), so the work can be smaller
  // for the same margin; unset: `iterations` either way.
  std::optional<std::pair<int64_t, int64_t>> warm_iterations;
  int64_t pairs = 3;
  Measure measure = Measure::Cpu;
  std::vector<std::pair<double, double>> thresholds;  // (min speedup, fraction), best first
  // A pair measuring more than this is noise, not speed; 0: 10 x the top threshold.
  double max_plausible_speedup = 0;
};

// The trust a test of `kind` has unless its manifest lowers it: pytest -> self_reported
// (it runs beside the student's code), produce_check -> outputs, perf and command ->
// measured.
Trust default_trust(TestKind kind);

// The test's trust level: its `trust`, or the kind's default when unset.
Trust trust_of(const TestSpec& t);

struct BuildSpec {
  std::vector<std::string> command;
  std::vector<std::string> files;  // copied into /grader for the build (optional)
  Limits limits;
};

struct Manifest {
  std::filesystem::path dir;   // the assignment folder
  std::filesystem::path file;  // dir / "assignment.toml"
  std::string id, title, version;
  double points = 0;

  std::optional<std::string> due_date;  // RFC 3339 as written
  std::optional<int64_t> due_epoch;     // seconds since the epoch (UTC)
  double late_percent_per_day = 0;
  std::optional<int64_t> late_max_days;  // none: no cap beyond 100%

  std::vector<std::string> required, allowed;
  uint64_t max_bytes = 10ull << 20;
  uint64_t max_files = 100;

  std::string python = "/usr/bin/python3";
  std::map<std::string, std::string> env;
  // Modules a warm-start zygote imports ahead for the Python runs (sandbox/README.md, "Warm
  // start"); empty: every run starts a cold interpreter.
  std::vector<std::string> preload;
  Limits limits;  // runtime defaults

  std::optional<BuildSpec> build;
  std::vector<TestSpec> tests;

  // What Gradescope calls our hidden tests (gradescope_results in reports/score.h).
  std::string gradescope_hidden_visibility = "after_published";
};

// The manifest's late rule (late.h), and the two steps of it the engine takes.
LateRule late_rule(const Manifest& m);
// Late days: whole days started after the due date plus `extension_days` (0 when on time,
// when there is no due date or no submission time).
int64_t late_days(const Manifest& m, std::optional<int64_t> submitted_epoch,
                  std::optional<double> extension_days);

// Points taken from `raw` for `days` late: late_percent_per_day per day, capped at 100%; past
// late_max_days, everything.
double late_penalty(const Manifest& m, int64_t days, double raw);

// Reads and validates dir/assignment.toml. Throws ManifestError.
Manifest load_manifest(const std::filesystem::path& dir);

// Every run's CPU and wall limits (build and tests) multiplied by `factor` (1: unchanged).
void scale_time_limits(Manifest& m, double factor);

// sandbox::parse_size (the one size grammar: "2M", "512K", "1.5G", "64 MiB", "100"), with
// nullopt for anything else.
std::optional<uint64_t> parse_size(const std::string& text);

// RFC 3339 date-time ("2026-10-02T23:59:00-04:00", "...Z") to seconds since the epoch, for
// every time the grader reads (manifest due dates, --submitted-at, Gradescope and batch
// metadata, summaries). Strict: YYYY-MM-DD, 'T' (or 't' or a space), hh:mm:ss, an optional
// fraction (dropped), then 'Z' or an offset ±hh:mm; month 01-12, a day that exists in that
// month (29 February only in leap years), hour 00-23, minute 00-59, second 00-59, offset
// within ±23:59. A leap second (second 60) is refused: POSIX time cannot name it, and no
// deadline needs it. Returns nullopt when malformed, with the reason in *problem if given.
std::optional<int64_t> parse_rfc3339(const std::string& text, std::string* problem = nullptr);

// Seconds since the epoch to "2026-10-02T03:59:00Z".
std::string format_rfc3339(int64_t epoch_seconds);

}  // namespace grader
