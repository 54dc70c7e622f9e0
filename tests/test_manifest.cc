// Manifest parsing: the fixture loads; every kind of mistake is reported with file, line, key.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "grader/engine/manifest.h"
#include "sandbox/policy.h"

namespace fs = std::filesystem;
using grader::ManifestError;

namespace {

const fs::path kFixture = fs::path(SOURCE_DIR) / "tests/fixtures/mini";

// A scratch assignment folder named `id` holding `toml` and the files tests refer to.
class ManifestDir {
 public:
  explicit ManifestDir(const std::string& toml, const std::string& id = "demo") {
    root_ = fs::temp_directory_path() /
            ("grader-manifest-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    dir_ = root_ / id;
    fs::create_directories(dir_ / "tests");
    fs::create_directories(dir_ / "base");
    std::ofstream(dir_ / "tests/test_a.py") << "def test_a():\n    pass\n";
    std::ofstream(dir_ / "assignment.toml") << toml;
  }
  ~ManifestDir() { fs::remove_all(root_); }
  const fs::path& dir() const { return dir_; }

 private:
  static inline int counter_ = 0;
  fs::path root_, dir_;
};

const std::string kHeader = R"(id = "demo"
title = "Demo"
version = "1.0"
points = 10.0
)";
const std::string kTest = R"(
[[tests]]
id = "t1"
visibility = "public"
points = 10.0
kind = "pytest"
files = ["tests/test_a.py"]
)";

// The message of the ManifestError that loading `toml` throws ("" when it loads).
std::string error_of(const std::string& toml) {
  ManifestDir d(toml);
  try {
    grader::load_manifest(d.dir());
  } catch (const ManifestError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Manifest, FixtureLoads) {
  grader::Manifest m = grader::load_manifest(kFixture);
  EXPECT_EQ(m.id, "mini");
  EXPECT_DOUBLE_EQ(m.points, 100.0);
  ASSERT_EQ(m.tests.size(), 6u);
  EXPECT_EQ(reports::name(m.tests[0].kind), "pytest");
  EXPECT_EQ(m.tests[0].cases, 4);
  EXPECT_EQ(reports::name(m.tests[2].kind), "produce_check");
  EXPECT_EQ(m.tests[2].expected, "hidden/expected/values");
  EXPECT_EQ(m.tests[2].seed, 7);
  EXPECT_EQ(reports::name(m.tests[3].scoring), "all_or_nothing");
  EXPECT_EQ(reports::name(m.tests[4].visibility), "after_due_date");
  // Test limits override the runtime defaults, the rest are inherited.
  EXPECT_DOUBLE_EQ(*m.tests[4].limits.cpu_time, 3.0);
  EXPECT_EQ(*m.tests[4].limits.memory, 256ull << 20);
  const auto& perf = m.tests[5];
  EXPECT_EQ(perf.iterations, std::make_pair(int64_t{1}, int64_t{21}));
  ASSERT_EQ(perf.thresholds.size(), 2u);
  EXPECT_DOUBLE_EQ(perf.thresholds[1].first, 0.25);
  EXPECT_EQ(m.max_bytes, 256u << 10);
  ASSERT_TRUE(m.due_epoch.has_value());
  EXPECT_EQ(grader::format_rfc3339(*m.due_epoch), "2026-10-03T03:59:00Z");
}

TEST(Manifest, TimeScaleMultipliesEveryCpuAndWallLimit) {
  grader::Manifest m = grader::load_manifest(kFixture);
  grader::scale_time_limits(m, 2.5);
  EXPECT_DOUBLE_EQ(*m.limits.cpu_time, 25.0);  // runtime: cpu 10, wall 20
  EXPECT_DOUBLE_EQ(*m.limits.wall_time, 50.0);
  EXPECT_DOUBLE_EQ(*m.tests[4].limits.cpu_time, 7.5);  // its own: cpu 3, wall 6
  EXPECT_DOUBLE_EQ(*m.tests[4].limits.wall_time, 15.0);
  EXPECT_DOUBLE_EQ(*m.tests[0].limits.cpu_time, 25.0);
  EXPECT_EQ(*m.tests[0].limits.memory, 256ull << 20);  // only time limits change
  // Unset limits become grader-sandbox's defaults (cpu 10 s, wall 3 x cpu), scaled.
  grader::Limits unset;
  EXPECT_DOUBLE_EQ(*unset.time_scaled(3).cpu_time, 30.0);
  EXPECT_DOUBLE_EQ(*unset.time_scaled(3).wall_time, 90.0);
  grader::Limits cpu_only;
  cpu_only.cpu_time = 2;
  EXPECT_DOUBLE_EQ(*cpu_only.time_scaled(3).wall_time, 18.0);
  EXPECT_FALSE(unset.time_scaled(1).cpu_time.has_value()) << "scale 1 changes nothing";
}

TEST(Manifest, MinimalLoads) { EXPECT_EQ(error_of(kHeader + kTest), ""); }

TEST(Manifest, Sizes) {
  EXPECT_EQ(grader::parse_size("100"), 100u);
  EXPECT_EQ(grader::parse_size("2M"), 2u << 20);
  EXPECT_EQ(grader::parse_size("512k"), 512u << 10);
  EXPECT_EQ(grader::parse_size("1.5G"), 3ull << 29);
  EXPECT_EQ(grader::parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(grader::parse_size("64MB"), 64u << 20);
  EXPECT_FALSE(grader::parse_size("lots"));
  EXPECT_FALSE(grader::parse_size("-1M"));
  EXPECT_FALSE(grader::parse_size("5iB"));
  EXPECT_FALSE(grader::parse_size("2X"));
  // Found by fuzz/rules.cc: too many digits for a double, and sizes past what llround holds.
  EXPECT_FALSE(grader::parse_size(std::string(400, '6')));
  EXPECT_FALSE(grader::parse_size("8388608T"));  // 2^63 bytes
  EXPECT_EQ(grader::parse_size("8388607T"), (1ull << 63) - (1ull << 40));
}

// One grammar for policies, manifests and the CLI: the sandbox's, which grader::parse_size
// wraps. What each spelling means, and what neither side may accept.
TEST(Sizes, OneGrammarForTheSandboxAndTheManifest) {
  const std::vector<std::pair<std::string, uint64_t>> good = {
      {"0", 0},
      {"4096", 4096},
      {"256M", 256ull << 20},
      {"5Ki", 5ull << 10},
      {"64 MiB", 64ull << 20},
      {" 2m ", 2ull << 20},
      {"1.5", 2},  // rounded to the nearest byte
      {"0.5K", 512},
      {"3tb", 3ull << 40},
      {"7B", 7},
  };
  for (const auto& [text, bytes] : good) {
    EXPECT_EQ(sandbox::parse_size(text), bytes) << text;
    EXPECT_EQ(grader::parse_size(text), bytes) << text;
  }
  for (const std::string bad :
       {"", " ", "M", "1.", ".5", "1..5", "2MiBB", "2 M i", "5iB", "1e3", "0x10", "+1", "2Q",
        "9223372036854775807",  // 2^63 - 1 is 2^63 as a double
        "18446744073709551615", "16EiB"}) {
    EXPECT_THROW(sandbox::parse_size(bad), std::invalid_argument) << bad;
    EXPECT_FALSE(grader::parse_size(bad)) << bad;
  }
}

TEST(Manifest, Rfc3339) {
  EXPECT_EQ(grader::parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(grader::parse_rfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(grader::parse_rfc3339("1969-12-31T19:00:00-05:00"), 0);
  EXPECT_EQ(grader::parse_rfc3339("2026-10-02T23:59:00.250Z"),
            grader::parse_rfc3339("2026-10-02T23:59:00Z"));
  EXPECT_FALSE(grader::parse_rfc3339("2026-10-02 23:59"));
  EXPECT_FALSE(grader::parse_rfc3339("2026-10-02T23:59:00"));  // no offset
  EXPECT_FALSE(grader::parse_rfc3339("2026-13-02T23:59:00Z"));
}

TEST(Manifest, ErrorsNameFileLineAndKey) {
  std::string e = error_of(kHeader + R"(
[[tests]]
id = "t1"
visibility = "public"
points = "ten"
kind = "pytest"
files = ["tests/test_a.py"]
)");
  EXPECT_NE(e.find("assignment.toml:9: tests.t1.points: must be a number"), std::string::npos) << e;
}

TEST(Manifest, SyntaxErrorHasLine) {
  std::string e = error_of(kHeader + "[[tests]\n");
  EXPECT_NE(e.find("assignment.toml:5:"), std::string::npos) << e;
}

TEST(Manifest, RejectsMistakes) {
  struct Case {
    std::string toml, needle;
  };
  std::vector<Case> cases = {
      {kTest, "id: missing"},
      {R"(id = "Demo!"
title = "x"
version = "1"
points = 10.0)" +
           kTest,
       "id: must match"},
      {R"(id = "other"
title = "x"
version = "1"
points = 10.0)" +
           kTest,
       "must equal the folder name"},
      {kHeader, "tests: missing"},
      {kHeader + "colour = 1\n" + kTest, ":5: colour: unknown key"},
      {R"(id = "demo"
title = "x"
version = "1"
points = 12.0)" +
           kTest,
       "points: is 12 but the tests' points add up to 10"},
      {kHeader + kTest + kTest, "duplicate id \"t1\""},
      {kHeader + "[due]\ndate = \"tomorrow\"\n" + kTest, ":6: due.date: must be an RFC 3339"},
      {kHeader + "[submission]\nmax_bytes = \"lots\"\n" + kTest,
       ":6: submission.max_bytes: must be a size"},
      {kHeader + "[runtime.limits]\nnetwork = \"internet\"\n" + kTest, "runtime.limits.network"},
      {kHeader + "[runtime.limits]\ncpu = 3\n" + kTest, "runtime.limits.cpu: unknown key"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "pytest"
files = ["../outside.py"]
)",
       "leaves the assignment folder"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "pytest"
files = ["tests/missing.py"]
)",
       "'tests/missing.py' does not exist"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "magic"
)",
       "tests.t1.kind: must be pytest, produce_check, perf or command"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "produce_check"
check_files = ["tests/test_a.py"]
)",
       "tests.t1.produce: missing (required for kind \"produce_check\")"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "perf"
command = ["x"]
baseline = "base"
thresholds = [[1.0, 0.5], [2.0, 1.0]]
)",
       "must be sorted best first"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "perf"
command = ["x"]
baseline = "base"
iterations = [5, 2]
thresholds = [[1.0, 1.0]]
)",
       "tests.t1.iterations: must satisfy"},
      {kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
visibility = "secret"
kind = "command"
command = ["x"]
)",
       "tests.t1.visibility"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.toml);
    EXPECT_NE(e.find(c.needle), std::string::npos)
        << "wanted '" << c.needle << "', got '" << e << "' for\n"
        << c.toml;
    EXPECT_NE(e.find("assignment.toml"), std::string::npos) << e;
  }
}

TEST(Manifest, MeasureBaseline) {
  const std::string produce = kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "produce_check"
produce = "tests/test_a.py"
check_files = ["tests/test_a.py"]
)";
  {
    ManifestDir d(produce + "measure_baseline = \"base\"\n");
    EXPECT_EQ(grader::load_manifest(d.dir()).tests.at(0).measure_baseline, "base");
  }
  EXPECT_NE(error_of(produce + "measure_baseline = \"nowhere\"\n")
                .find(":12: tests.t1.measure_baseline: 'nowhere' does not exist"),
            std::string::npos)
      << error_of(produce + "measure_baseline = \"nowhere\"\n");
  EXPECT_NE(error_of(produce + "measure_baseline = \"tests/test_a.py\"\n").find("is not a folder"),
            std::string::npos);
  EXPECT_NE(error_of(kHeader + R"(
[[tests]]
id = "t1"
points = 10.0
kind = "command"
command = ["x"]
measure_baseline = "base"
)")
                .find("tests.t1.measure_baseline: only for kind \"produce_check\""),
            std::string::npos);
}

TEST(Manifest, MissingFileIsAnInputError) {
  EXPECT_THROW(grader::load_manifest(fs::temp_directory_path() / "no-such-assignment"),
               grader::InputError);
}

// Due 2026-10-02T23:59:00-04:00, 10% per started day, at most 3 days.
TEST(LatePenalty, DayBoundaries) {
  grader::Manifest m = grader::load_manifest(kFixture);
  const int64_t due = *grader::parse_rfc3339("2026-10-02T23:59:00-04:00");
  auto days = [&](int64_t offset, std::optional<double> extension = std::nullopt) {
    return grader::late_days(m, due + offset, extension);
  };
  EXPECT_EQ(days(-3600), 0);
  EXPECT_EQ(days(0), 0);  // exactly on time
  EXPECT_EQ(days(1), 1);  // one second late starts day 1
  EXPECT_EQ(days(86400), 1);
  EXPECT_EQ(days(86401), 2);
  EXPECT_EQ(days(3 * 86400), 3);
  EXPECT_EQ(days(3 * 86400 + 1), 4);
  EXPECT_EQ(days(86401, 1.0), 1);  // a one-day extension moves the boundary
  EXPECT_EQ(days(86400, 1.0), 0);
  EXPECT_EQ(grader::late_days(m, std::nullopt, std::nullopt), 0);
  // Offsets: the same instant written in another zone is the same lateness.
  EXPECT_EQ(grader::late_days(m, grader::parse_rfc3339("2026-10-03T03:59:01Z"), std::nullopt), 1);
  EXPECT_EQ(grader::late_days(m, grader::parse_rfc3339("2026-10-03T05:59:00+02:00"), std::nullopt),
            0);

  EXPECT_DOUBLE_EQ(grader::late_penalty(m, 0, 80.0), 0.0);
  EXPECT_DOUBLE_EQ(grader::late_penalty(m, 1, 80.0), 8.0);
  EXPECT_DOUBLE_EQ(grader::late_penalty(m, 3, 80.0), 24.0);
  EXPECT_DOUBLE_EQ(grader::late_penalty(m, 4, 80.0), 80.0);  // past late_max_days: nothing left
  m.late_max_days.reset();
  m.late_percent_per_day = 40;
  EXPECT_DOUBLE_EQ(grader::late_penalty(m, 3, 80.0), 80.0);  // capped at 100%
}

namespace {

// One test (its kind and keys) in a manifest of its own.
std::string one_test(const std::string& kind_and_keys) {
  return kHeader + "\n[[tests]]\nid = \"t1\"\npoints = 10.0\n" + kind_and_keys;
}

const std::string kPytest = "kind = \"pytest\"\nfiles = [\"tests/test_a.py\"]\n";
const std::string kProduce =
    "kind = \"produce_check\"\nproduce = \"tests/test_a.py\"\ncheck_files = "
    "[\"tests/test_a.py\"]\n";
const std::string kPerf =
    "kind = \"perf\"\ncommand = [\"x\"]\nbaseline = \"base\"\nthresholds = [[2.0, 1.0]]\n";
const std::string kCommand = "kind = \"command\"\ncommand = [\"x\"]\n";

grader::TestSpec loaded_test(const std::string& toml) {
  ManifestDir d(toml);
  return grader::load_manifest(d.dir()).tests.at(0);
}

}  // namespace

TEST(Trust, DefaultsByKind) {
  EXPECT_EQ(loaded_test(one_test("visibility = \"public\"\n" + kPytest)).trust,
            grader::Trust::SelfReported);
  EXPECT_EQ(loaded_test(one_test(kProduce)).trust, grader::Trust::Outputs);
  EXPECT_EQ(loaded_test(one_test(kPerf)).trust, grader::Trust::Measured);
  EXPECT_EQ(loaded_test(one_test(kCommand)).trust, grader::Trust::Measured);
  grader::TestSpec hand_made;
  hand_made.kind = grader::TestKind::Pytest;
  EXPECT_FALSE(hand_made.trust);
  EXPECT_EQ(grader::trust_of(hand_made), grader::Trust::SelfReported);
}

TEST(Trust, AnAuthorMayOnlyLowerIt) {
  EXPECT_EQ(loaded_test(one_test(kProduce + "trust = \"measured\"\n")).trust,
            grader::Trust::Measured);
  grader::TestSpec lowered =
      loaded_test(one_test(kCommand + "trust = \"self_reported\"\nstudent_can_forge = true\n"));
  EXPECT_EQ(lowered.trust, grader::Trust::SelfReported);
  EXPECT_TRUE(lowered.student_can_forge);
  // Line 10 is the trust key.
  std::string e = error_of(one_test("visibility = \"public\"\ntrust = \"outputs\"\n" + kPytest));
  EXPECT_NE(e.find("assignment.toml:10: tests.t1.trust: cannot be outputs: a pytest test runs in "
                   "the student's box"),
            std::string::npos)
      << e;
  e = error_of(one_test(kPerf + "trust = \"outputs\"\n"));
  EXPECT_NE(e.find("tests.t1.trust: cannot be outputs: a perf test scores what the sandbox"),
            std::string::npos)
      << e;
  e = error_of(one_test(kProduce + "trust = \"believed\"\n"));
  EXPECT_NE(e.find("tests.t1.trust: must be outputs, measured or self_reported"), std::string::npos)
      << e;
}

TEST(Trust, HiddenSelfReportedIsRefusedWithoutTheKey) {
  // Line 9 is the visibility key: the message names the file, the line and the reason.
  std::string e = error_of(one_test("visibility = \"hidden\"\n" + kPytest));
  EXPECT_NE(e.find("assignment.toml:9: tests.t1: a hidden test that is self_reported (pytest "
                   "runs beside the student's code) gives points the student's code can forge "
                   "unseen"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("student_can_forge = true"), std::string::npos) << e;
  // Hidden is the default visibility: the test's own line is named.
  e = error_of(one_test(kPytest));
  EXPECT_NE(e.find("assignment.toml:6: tests.t1: a hidden test that is self_reported"),
            std::string::npos)
      << e;
  e = error_of(
      one_test("visibility = \"after_due_date\"\n" + kProduce + "trust = \"self_reported\"\n"));
  EXPECT_NE(e.find("tests.t1: an after_due_date test that is self_reported (trust = "
                   "\"self_reported\")"),
            std::string::npos)
      << e;
  grader::TestSpec accepted =
      loaded_test(one_test("visibility = \"hidden\"\nstudent_can_forge = true\n" + kPytest));
  EXPECT_TRUE(accepted.student_can_forge);
  EXPECT_EQ(accepted.trust, grader::Trust::SelfReported);
  // Public self_reported tests need no key; the key on a trusted test is a stale mistake.
  EXPECT_EQ(error_of(one_test("visibility = \"public\"\n" + kPytest)), "");
  e = error_of(one_test(kProduce + "student_can_forge = true\n"));
  EXPECT_NE(e.find("tests.t1.student_can_forge: only a self_reported test needs it"),
            std::string::npos)
      << e;
  e = error_of(one_test("visibility = \"hidden\"\nstudent_can_forge = 1\n" + kPytest));
  EXPECT_NE(e.find("tests.t1.student_can_forge: must be true or false"), std::string::npos) << e;
}

TEST(Trust, PlausibleSpeedupBound) {
  EXPECT_DOUBLE_EQ(loaded_test(one_test(kPerf)).max_plausible_speedup, 20.0);
  EXPECT_DOUBLE_EQ(
      loaded_test(one_test(kPerf + "max_plausible_speedup = 50\n")).max_plausible_speedup, 50.0);
  std::string e = error_of(one_test(kPerf + "max_plausible_speedup = 1.5\n"));
  EXPECT_NE(e.find("tests.t1.max_plausible_speedup: must be above the top threshold (2)"),
            std::string::npos)
      << e;
  e = error_of(one_test(kCommand + "max_plausible_speedup = 5\n"));
  EXPECT_NE(e.find("tests.t1.max_plausible_speedup: only a perf test has it"), std::string::npos)
      << e;
}

// warm_iterations: a perf test's counts for warm pairs, only where a zygote can exist.
TEST(Trust, WarmIterations) {
  const std::string preload = "[runtime]\npreload = [\"json\"]\n";
  grader::TestSpec t = loaded_test(
      one_test(kPerf + "iterations = [1, 80]\n" + "warm_iterations = [1, 40]\n" + preload));
  EXPECT_EQ(t.iterations, std::make_pair(int64_t{1}, int64_t{80}));
  ASSERT_TRUE(t.warm_iterations);
  EXPECT_EQ(*t.warm_iterations, std::make_pair(int64_t{1}, int64_t{40}));
  EXPECT_FALSE(loaded_test(one_test(kPerf + preload)).warm_iterations);
  std::string e = error_of(one_test(kPerf + "warm_iterations = [1, 40]\n"));
  EXPECT_NE(e.find("tests.t1.warm_iterations: needs [runtime] preload"), std::string::npos) << e;
  e = error_of(one_test(kPerf + "warm_iterations = [40, 40]\n" + preload));
  EXPECT_NE(e.find("tests.t1.warm_iterations: must satisfy 0 <= low < high"), std::string::npos)
      << e;
  e = error_of(one_test(kPerf + "warm_iterations = [1]\n" + preload));
  EXPECT_NE(e.find("tests.t1.warm_iterations: must be two integers [low, high]"), std::string::npos)
      << e;
  e = error_of(one_test(kCommand + "warm_iterations = [1, 2]\n" + preload));
  EXPECT_NE(e.find("tests.t1.warm_iterations: only a perf test has it"), std::string::npos) << e;
}

// Every bundled assignment loads under the trust rules (a hidden self_reported test must say
// student_can_forge), and only its pytest tests are self_reported unless lowered on purpose.
TEST(Trust, BundledManifestsLoad) {
  int loaded = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(SOURCE_DIR) / "assignments")) {
    if (!fs::is_regular_file(entry.path() / "assignment.toml")) continue;
    grader::Manifest m = grader::load_manifest(entry.path());
    ++loaded;
    for (const auto& t : m.tests) {
      EXPECT_TRUE(t.trust) << m.id << " " << t.id;
      if (t.trust == grader::Trust::SelfReported && t.visibility != grader::Visibility::Public) {
        EXPECT_TRUE(t.student_can_forge) << m.id << " " << t.id;
      }
    }
  }
  EXPECT_GE(loaded, 5);
}

// The late rule both the engine and the gradebook use (grader/engine/late.h), one row per case.
TEST(LateRule, OneTableForTheEngineAndTheGradebook) {
  const int64_t due = 1'000'000'000;
  struct Row {
    const char* name;
    grader::LateRule rule;
    std::optional<int64_t> submitted;
    std::optional<double> extension;
    int64_t days;
    double percent;
  };
  const grader::LateRule ten{due, 10, 3.0}, uncapped{due, 40, std::nullopt};
  const Row rows[] = {
      {"no due date", {std::nullopt, 10, 3.0}, due + 99 * 86400, std::nullopt, 0, 0},
      {"no submission time", ten, std::nullopt, std::nullopt, 0, 0},
      {"early", ten, due - 1, std::nullopt, 0, 0},
      {"on the second", ten, due, std::nullopt, 0, 0},
      {"one second late", ten, due + 1, std::nullopt, 1, 10},
      {"a day and a second", ten, due + 86401, std::nullopt, 2, 20},
      {"three days: the cap", ten, due + 3 * 86400, std::nullopt, 3, 30},
      {"past the cap: all of it", ten, due + 3 * 86400 + 1, std::nullopt, 4, 100},
      {"a half-day extension", ten, due + 43200, 0.5, 0, 0},
      {"a half-day extension, a second over", ten, due + 43201, 0.5, 1, 10},
      {"40% a day, no cap: at most 100%", uncapped, due + 2 * 86400 + 1, std::nullopt, 3, 100},
      {"an absurd extension", ten, due + 1, 1e300, 0, 0},
  };
  for (const Row& r : rows) {
    const int64_t days = grader::late_days(r.rule, r.submitted, r.extension);
    EXPECT_EQ(days, r.days) << r.name;
    EXPECT_DOUBLE_EQ(grader::late_penalty_percent(r.rule, days), r.percent) << r.name;
  }
  // The due date score.json states (submission.due_at) is the same moved date.
  EXPECT_EQ(grader::extended_due(ten, std::nullopt), due);
  EXPECT_EQ(grader::extended_due(ten, 0.5), due + 43200);
  EXPECT_EQ(grader::extended_due(ten, 1e300), due + 1'000'000ll * 86400);
  EXPECT_EQ(grader::extended_due({std::nullopt, 10, 3.0}, 2.0), std::nullopt);
}

// An unset limit is the sandbox's default, read from sandbox::Policy (not a copy of it).
TEST(Limits, UnsetMeansTheSandboxsDefault) {
  const sandbox::Policy defaults;
  const grader::Limits unset;
  EXPECT_EQ(unset.cpu_seconds(), defaults.cpu_time);
  EXPECT_EQ(unset.wall_seconds(), defaults.effective_wall_time());
  EXPECT_EQ(unset.memory_bytes(), defaults.memory);
  grader::Limits some;
  some.cpu_time = 4;
  EXPECT_EQ(some.wall_seconds(), 12);  // the sandbox's 3 x CPU
  some.wall_time = 5;
  some.memory = 1536ull << 20;
  EXPECT_EQ(some.wall_seconds(), 5);
  EXPECT_EQ(some.memory_bytes(), 1536ull << 20);
  const grader::Limits scaled = unset.time_scaled(2);
  EXPECT_EQ(*scaled.cpu_time, 2 * defaults.cpu_time);
  EXPECT_EQ(*scaled.wall_time, 2 * defaults.effective_wall_time());
  EXPECT_FALSE(scaled.memory);
}
