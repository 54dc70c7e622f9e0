// Manifest parsing: the fixture loads; every kind of mistake is reported with file, line, key.
#include <gtest/gtest.h>

#include <fstream>

#include "grader/manifest.h"

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
  EXPECT_EQ(m.tests[0].kind, "pytest");
  EXPECT_EQ(m.tests[0].cases, 4);
  EXPECT_EQ(m.tests[2].kind, "produce_check");
  EXPECT_EQ(m.tests[2].expected, "hidden/expected/values");
  EXPECT_EQ(m.tests[2].seed, 7);
  EXPECT_EQ(m.tests[3].scoring, "all_or_nothing");
  EXPECT_EQ(m.tests[4].visibility, "after_due_date");
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
points = "ten"
kind = "pytest"
files = ["tests/test_a.py"]
)");
  EXPECT_NE(e.find("assignment.toml:8: tests.t1.points: must be a number"), std::string::npos) << e;
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
