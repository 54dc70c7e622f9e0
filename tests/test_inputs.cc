// Strict inputs: every RFC 3339 rule and every student-id rule as a table, and the entry
// points that apply them (the CLI, Gradescope metadata, batch merge, meta.toml of samples).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "grader/box/remove_tree.h"
#include "grader/box/sandbox_runner.h"
#include "grader/course/batch.h"
#include "grader/course/gradebook.h"
#include "grader/course/gradescope.h"
#include "grader/engine/engine.h"
#include "grader/engine/intake.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"
#include "sandbox/policy.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kGrader = fs::path(BUILD_DIR) / "bin/grader";
const fs::path kMini = fs::path(SOURCE_DIR) / "tests/fixtures/mini";

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command line built from trusted test paths, capturing stdout and stderr.
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "test_inputs.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
    dir_ = pattern;
  }
  ~TempDir() { (void)grader::remove_tree(dir_); }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(Rfc3339, ValidTimes) {
  struct Case {
    const char* text;
    int64_t epoch;
  };
  for (const Case& c : std::vector<Case>{
           {"1970-01-01T00:00:00Z", 0},
           {"1970-01-01T01:00:00+01:00", 0},
           {"1969-12-31T19:00:00-05:00", 0},
           {"1970-01-01t00:00:00z", 0},                // lower case is RFC 3339 too
           {"1970-01-01 00:00:00Z", 0},                // and a space (RFC 3339, 5.6 note)
           {"1970-01-01T00:00:00-00:00", 0},           // "offset unknown" is UTC
           {"1970-01-01T00:00:00.999999999Z", 0},      // fractions are dropped
           {"2024-02-29T00:00:00Z", 1709164800},       // a leap year
           {"2000-02-29T12:00:00Z", 951825600},        // divisible by 400: a leap year
           {"1600-03-01T00:00:00Z", -11670912000},     // before the epoch
           {"2026-12-31T23:59:59+23:59", 1798675259},  // the largest offset
           {"2026-01-01T00:00:00-23:59", 1767311940},  // the smallest
           {"2026-10-02T23:59:00-04:00", 1790999940},
           {"9999-12-31T23:59:59Z", 253402300799},
           {"0001-01-01T00:00:00Z", -62135596800},
       }) {
    std::string problem = "unset";
    EXPECT_EQ(grader::parse_rfc3339(c.text, &problem), c.epoch) << c.text << ": " << problem;
  }
}

TEST(Rfc3339, InvalidTimesAreRefusedWithTheReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const char* shape = "not an RFC 3339 date-time with an offset";
  for (const Case& c : std::vector<Case>{
           {"2026-00-10T00:00:00Z", "month 00 does not exist"},
           {"2026-13-02T23:59:00Z", "month 13 does not exist"},
           {"2026-01-00T00:00:00Z", "day 00 does not exist in January 2026"},
           {"2026-01-32T00:00:00Z", "day 32 does not exist in January 2026"},
           {"2026-02-31T00:00:00Z", "day 31 does not exist in February 2026"},
           {"2026-02-29T00:00:00Z", "day 29 does not exist in February 2026 (not a leap year)"},
           {"1900-02-29T00:00:00Z", "(not a leap year)"},  // divisible by 100, not by 400
           {"2026-04-31T00:00:00Z", "day 31 does not exist in April 2026"},
           {"2026-06-31T00:00:00Z", "day 31 does not exist in June 2026"},
           {"2026-09-31T00:00:00Z", "day 31 does not exist in September 2026"},
           {"2026-11-31T00:00:00Z", "day 31 does not exist in November 2026"},
           {"2026-10-02T24:00:00Z", "hour 24 does not exist"},
           {"2026-10-02T23:60:00Z", "minute 60 does not exist"},
           {"2026-12-31T23:59:60Z", "second 60 (a leap second) is not accepted"},
           {"2026-10-02T23:59:61Z", "second 61 does not exist"},
           {"2026-10-02T23:59:00+99:99", "offset +99:99 is outside -23:59..+23:59"},
           {"2026-10-02T23:59:00+24:00", "offset +24:00 is outside"},
           {"2026-10-02T23:59:00-23:60", "offset -23:60 is outside"},
           {"2026-10-02T23:59:00", shape},       // no offset
           {"2026-10-02 23:59", shape},          // no seconds
           {"2026-10-02", shape},                // a date only
           {"2026-10-02T23:59:00+0400", shape},  // offset without a colon
           {"2026-10-02T23:59:00+04", shape},    // offset without minutes
           {"2026-10-02T23:59:00.Z", shape},     // an empty fraction
           {"2026-10-02T23:59:00Z ", shape},     // trailing text
           {" 2026-10-02T23:59:00Z", shape},     // leading text
           {"26-10-02T23:59:00Z", shape},        // a two-digit year
           {"2026-1-02T23:59:00Z", shape},       // a one-digit month
           {"2026-10-02T23:59:00UTC", shape},    // a zone name
           {"\xef\xbc\x92"
            "026-10-02T23:59:00Z",
            shape},  // a full-width digit
           {"", shape},
       }) {
    std::string problem;
    EXPECT_FALSE(grader::parse_rfc3339(c.text, &problem)) << c.text;
    EXPECT_NE(problem.find(c.reason), std::string::npos) << c.text << ": " << problem;
  }
  std::string fraction = "2026-10-02T23:59:00." + std::string(100, '9') + "Z";
  EXPECT_FALSE(grader::parse_rfc3339(fraction));  // bounded: longer than any real time
}

TEST(Rfc3339, ManifestDueDateIsStrict) {
  TempDir tmp;
  fs::path dir = tmp.dir() / "demo";
  write_file(dir / "tests/test_a.py", "def test_a():\n    pass\n");
  write_file(dir / "assignment.toml", R"(id = "demo"
title = "Demo"
version = "1.0"
points = 10.0
[due]
date = "2026-02-30T23:59:00-04:00"
[[tests]]
id = "t1"
points = 10.0
kind = "pytest"
files = ["tests/test_a.py"]
)");
  try {
    grader::load_manifest(dir);
    ADD_FAILURE() << "31 February accepted";
  } catch (const grader::ManifestError& e) {
    EXPECT_NE(std::string(e.what()).find("assignment.toml:6: due.date"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("day 30 does not exist in February 2026"),
              std::string::npos)
        << e.what();
  }
}

TEST(StudentId, TheRuleAsATable) {
  for (const char* ok : {"alice", "Alice", "a", "7", "s1234567", "ann.lee", "ann_lee", "ann-lee",
                         "ann+cs101@uni.edu", "A.B_C-D+E@F"}) {
    EXPECT_EQ(grader::student_id_problem(ok), std::nullopt) << ok;
  }
  EXPECT_EQ(grader::student_id_problem(std::string(128, 'x')), std::nullopt);
  struct Case {
    std::string id, problem;
  };
  for (const Case& c : std::vector<Case>{
           {"", "is empty"},
           {std::string(129, 'x'), "is 129 bytes long (at most 128)"},
           {".", "starts with '.'"},
           {"..", "starts with '.'"},
           {".hidden", "starts with '.'"},
           {"-rf", "starts with '-'"},
           {"=cmd", "starts with '='"},
           {"@sum", "starts with '@'"},
           {"+1", "starts with '+'"},
           {"_x", "starts with '_'"},
           {"a/b", "has a path separator ('/') at byte 2"},
           {"a\\b", "has a path separator ('\\') at byte 2"},
           {"../etc", "starts with '.'"},
           {"Ann Lee", "has a space at byte 4"},
           {"bad\x01id", "has a control character (\\x01) at byte 4"},
           {"bad\nid", "has a control character (\\x0a) at byte 4"},
           {"esc\x1b[2J", "has a control character (\\x1b) at byte 4"},
           {"del\x7f", "has a control character (\\x7f) at byte 4"},
           {"jos\xc3\xa9", "has a non-ASCII byte at byte 4"},
           {"o'brien", "has ''' at byte 2"},
           {"a\"b", "has '\"' at byte 2"},
           {"a<b>", "has '<' at byte 2"},
           {"a;b", "has ';' at byte 2"},
           {"a:b", "has ':' at byte 2"},
           {std::string("a\0b", 3), "has a control character (\\x00) at byte 2"},
       }) {
    auto problem = grader::student_id_problem(c.id);
    ASSERT_TRUE(problem.has_value()) << c.id;
    EXPECT_NE(problem->find(c.problem), std::string::npos) << c.id << ": " << *problem;
  }
}

TEST(StudentId, MappingAlwaysKeepsTheRule) {
  EXPECT_EQ(grader::safe_student_id("../../etc"), "etc");
  EXPECT_EQ(grader::safe_student_id("Ann Lee"), "Ann_Lee");
  EXPECT_EQ(grader::safe_student_id("=cmd|x"), "cmd_x");
  EXPECT_EQ(grader::safe_student_id("bad\x01id"), "bad_id");
  EXPECT_EQ(grader::safe_student_id("-rf"), "rf");
  EXPECT_EQ(grader::safe_student_id("..."), "");
  EXPECT_EQ(grader::safe_student_id(std::string(300, 'y')).size(), 128u);
  for (std::string text : {"x/../../y", "\xff\xfe", "a b c ", "  __x__  ", "@@@", "a@b.c"}) {
    std::string id = grader::safe_student_id(text);
    if (!id.empty()) {
      EXPECT_EQ(grader::student_id_problem(id), std::nullopt) << text;
    }
  }
}

TEST(StudentId, ErrorNamesTheSourceTheValueAndASuggestion) {
  try {
    grader::check_student_id("Ann\x01Lee", "--student");
    ADD_FAILURE();
  } catch (const grader::InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("--student: student id 'Ann\\x01Lee' is not usable", 0), 0u) << m;
    EXPECT_NE(m.find("(try 'Ann_Lee')"), std::string::npos) << m;
  }
}

TEST(StudentId, GradescopeMetadataFallsBackToTheSubmissionId) {
  TempDir tmp;
  fs::path file = tmp.dir() / "submission_metadata.json";
  write_file(file, R"({"id": 123, "created_at": "2026-02-30T10:00:00Z",
                       "users": [{"email": "o'brien@uni.edu"}]})");
  grader::gradescope::Metadata m = grader::gradescope::read_metadata(file);
  EXPECT_EQ(m.student, "submission-123");
  EXPECT_FALSE(m.submitted_at);
  std::string all;
  for (const auto& w : m.warnings) all += w + "\n";
  EXPECT_NE(all.find("users[0].email: student id 'o'brien@uni.edu' is not usable"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("created_at '2026-02-30T10:00:00Z': day 30 does not exist"), std::string::npos)
      << all;

  write_file(file, R"({"id": 5, "created_at": "2026-10-02T15:10:14.123456-07:00",
                       "users": [{"email": "ann@uni.edu"}]})");
  m = grader::gradescope::read_metadata(file);
  EXPECT_EQ(m.student, "ann@uni.edu");
  EXPECT_EQ(m.submitted_at, "2026-10-02T22:10:14Z");
  EXPECT_TRUE(m.warnings.empty());
}

TEST(StudentId, MergeRefusesAShardSummaryWithABadId) {
  TempDir tmp;
  json summary = {{"kind", "class_summary"},
                  {"assignment", {{"id", "mini"}, {"hash", "sha256:x"}}},
                  {"grader_version", GRADER_VERSION},
                  {"shard", nullptr},
                  {"students", {{{"student", "../../escape"}}}}};
  write_file(tmp.dir() / "shard/summary.json", summary.dump());
  try {
    grader::batch::merge({tmp.dir() / "shard"}, tmp.dir() / "merged");
    ADD_FAILURE() << "merged";
  } catch (const grader::InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("summary.json: student id '../../escape' is not usable"), std::string::npos)
        << m;
  }
  EXPECT_FALSE(fs::exists(tmp.dir() / "escape"));
}

TEST(Cli, BadStudentSubmittedAtAndOutAreUsageErrors) {
  TempDir tmp;
  fs::path sub = tmp.dir() / "sub";
  grader::copy_tree(kMini / "solution", sub);
  std::string base = kGrader.string() + " grade " + kMini.string() + " " + sub.string();
  write_file(tmp.dir() / "a-file", "x");
  CommandResult r = run(base + " --out " + (tmp.dir() / "a-file").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(
      r.output.find("--out '" + (tmp.dir() / "a-file").string() + "': exists and is not a folder"),
      std::string::npos)
      << r.output;
  r = run(base + " --out " + (tmp.dir() / "o").string() + " --student \"$(printf 'a\\033[2Jb')\"");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--student: student id 'a\\x1b[2Jb' is not usable"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << "the raw escape reached the console";
  r = run(base + " --out " + (tmp.dir() / "o").string() + " --submitted-at 2026-02-29T10:00:00Z");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--submitted-at '2026-02-29T10:00:00Z': day 29 does not exist"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(tmp.dir() / "o/score.json"));
}

TEST(Cli, SampleMetaTomlIsMetadataForGradeAndCheck) {
  TempDir tmp;
  fs::path sample = tmp.dir() / "samples/erin";
  grader::copy_tree(kMini / "solution", sample);
  write_file(sample / "meta.toml", "submitted_at = \"2026-10-04T09:30:00-04:00\"\n");
  CommandResult r = run(kGrader.string() + " grade " + kMini.string() + " " + sample.string() +
                        " --student erin --out " + (tmp.dir() / "o").string());
  EXPECT_EQ(r.status, 0) << r.output;
  std::ifstream in(tmp.dir() / "o/score.json");
  json score = json::parse(in, nullptr, false);
  ASSERT_TRUE(score.is_object()) << r.output;
  const json& s = score["submission"];
  EXPECT_TRUE(s["rejected"].is_null()) << s.dump(2);
  EXPECT_EQ(s["submitted_at"], "2026-10-04T13:30:00Z") << s.dump(2);
  EXPECT_EQ(s["submitted_at_source"], "metadata");
  EXPECT_EQ(s["late_days"], 2);
  EXPECT_EQ(s["content_hash"], grader::hash_tree(kMini / "solution"));
  ASSERT_EQ(s["ignored"].size(), 1u) << s.dump(2);
  EXPECT_EQ(s["ignored"][0]["path"], "meta.toml");

  // --submitted-at wins over meta.toml.
  r = run(kGrader.string() + " grade " + kMini.string() + " " + sample.string() +
          " --submitted-at 2026-10-02T20:00:00-04:00 --out " + (tmp.dir() / "o2").string());
  EXPECT_EQ(r.status, 0) << r.output;
  std::ifstream in2(tmp.dir() / "o2/score.json");
  score = json::parse(in2, nullptr, false);
  EXPECT_EQ(score["submission"]["submitted_at_source"], "option");
  EXPECT_EQ(score["submission"]["late_days"], 0);

  r = run(kGrader.string() + " check " + kMini.string() + " " + sample.string());
  EXPECT_NE(r.status, 2) << r.output;  // not rejected
  EXPECT_NE(r.output.find("ignored (not part of the submission): meta.toml"), std::string::npos)
      << r.output;
}

}  // namespace

// What the fuzz targets found (fuzz/README.md); each input is also kept in fuzz/regressions/.

TEST(FuzzFindings, AnIdThatKeepsTheRuleMapsToItself) {
  EXPECT_EQ(grader::safe_student_id("1_"), "1_");
  EXPECT_EQ(grader::safe_student_id("ada_"), "ada_");
  EXPECT_EQ(grader::safe_student_id("ada!"), "ada");
  EXPECT_EQ(grader::safe_student_id("a_!"), "a_");
}

TEST(FuzzFindings, YearsBelow1000AreWrittenWithFourDigits) {
  auto epoch = grader::parse_rfc3339("0985-01-01T00:00:00Z");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(grader::format_rfc3339(*epoch), "0985-01-01T00:00:00Z");
  EXPECT_EQ(grader::parse_rfc3339(grader::format_rfc3339(*epoch)), epoch);
  std::string problem;
  EXPECT_FALSE(grader::parse_rfc3339("0000-01-01T00:00:00+23:19", &problem));  // UTC year -1
  EXPECT_NE(problem.find("0000-9999"), std::string::npos) << problem;
  EXPECT_FALSE(grader::parse_rfc3339("9999-12-31T23:59:59-00:01"));  // UTC year 10000
  EXPECT_TRUE(grader::parse_rfc3339("9999-12-31T23:59:59Z"));
}

TEST(FuzzFindings, ExtensionDaysAreFiniteAndEveryIdUsable) {
  TempDir t;
  const fs::path csv = t.dir() / "extensions.csv";
  for (const char* body :
       {"student,days\nada,nan\n", "student,days\nada,inf\n", "student,days\n!!!,2\n"}) {
    write_file(csv, body);
    try {
      grader::batch::load_extensions(csv, "a1");
      ADD_FAILURE() << "accepted: " << body;
    } catch (const grader::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(csv.string() + ":2:"), std::string::npos) << e.what();
    }
  }
  write_file(csv, "student,assignment,days\nada,a1,2\nada,*,5\nbob,*,1\n");
  auto ext = grader::batch::load_extensions(csv, "a1");
  EXPECT_EQ(ext.at("ada"), 2);  // the assignment's own row, before the "*" row
  EXPECT_EQ(ext.at("bob"), 1);
}

TEST(FuzzFindings, ASummaryOfTheWrongShapeIsRefusedNamingTheField) {
  TempDir t;
  write_file(t.dir() / "summary.json",
             R"({"kind": "class_summary", "assignment": {"title": "x"}, "students": []})");
  grader::GradebookOptions o;
  o.dirs = {t.dir()};
  try {
    grader::build_gradebook(o);
    ADD_FAILURE() << "accepted a summary without assignment.id";
  } catch (const grader::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("summary.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("assignment.id"), std::string::npos) << e.what();
  }
}

TEST(FuzzFindings, AResultThatIsNotAnObjectIsNotCarriedOut) {
  grader::BoxResult r = grader::read_result(0, "[1]", "");
  EXPECT_FALSE(r.carried_out);
  EXPECT_FALSE(r.error.empty());
  // The result is grader-sandbox's own: a value it could never write is its bug, and the run
  // is not carried out, with the key named (sandbox::result_from_json).
  r = grader::read_result(0, R"({"verdict": "ok", "exit_code": 10000000000})", "");
  EXPECT_FALSE(r.carried_out);
  EXPECT_NE(r.error.find("exit_code"), std::string::npos) << r.error;
  r = grader::read_result(0, R"({"verdict": "ok", "cpu_seconds": -1})", "");
  EXPECT_FALSE(r.carried_out);
  EXPECT_NE(r.error.find("cpu_seconds"), std::string::npos) << r.error;
  r = grader::read_result(0, R"({"verdict": "finished"})", "");
  EXPECT_FALSE(r.carried_out);
  EXPECT_NE(r.error.find("verdict"), std::string::npos) << r.error;
  EXPECT_EQ(r.result.verdict, sandbox::Verdict::SandboxError);
}

// The contract both ways: every field grader-sandbox writes comes back as it was.
TEST(SandboxContract, AResultSurvivesToJsonAndBack) {
  sandbox::Result r;
  r.verdict = sandbox::Verdict::OutputLimit;
  r.limit_reason = "disk";
  r.exit_code = -9;
  r.signal = 9;
  r.cpu_seconds = 1.25;
  r.wall_seconds = 2.5;
  r.peak_memory_bytes = 123456789;
  r.stdout_bytes = 10;
  r.stderr_bytes = 20;
  r.truncated = true;
  r.enforced = {{"memory", "cgroup v2"}, {"pids", "rlimit"}};
  sandbox::VolumeResult v;
  v.dst = "/out";
  v.size = 1 << 20;
  v.inodes = 100;
  v.bytes_used = 4096;
  v.inodes_used = 3;
  v.full = "disk";
  v.collected_files = 2;
  v.collected_bytes = 30;
  v.skipped = 1;
  v.notes = {"link: a symbolic link"};
  r.volumes = {v};
  r.channel_bytes = 7;
  r.start = "warm";
  r.start_note = "why not";
  r.warnings = {"a warning"};
  r.error = "";
  const nlohmann::json once = sandbox::to_json(r);
  const nlohmann::json twice = sandbox::to_json(sandbox::result_from_json(once));
  EXPECT_EQ(once, twice);
  for (auto v :
       {sandbox::Verdict::Ok, sandbox::Verdict::NonzeroExit, sandbox::Verdict::Signaled,
        sandbox::Verdict::TimeLimit, sandbox::Verdict::MemoryLimit, sandbox::Verdict::OutputLimit,
        sandbox::Verdict::ProcessLimit, sandbox::Verdict::SandboxError})
    EXPECT_EQ(sandbox::verdict_from_string(sandbox::to_string(v)), v);
}

// The grader's policy is the sandbox's: a limit the manifest leaves out is the sandbox's
// default, and what grader writes is what grader-sandbox reads back.
TEST(SandboxContract, TheGradersPolicyIsTheSandboxs) {
  grader::Limits none;
  const sandbox::Policy defaults;
  const sandbox::Policy p = grader::limits_policy(none);
  EXPECT_EQ(p.cpu_time, defaults.cpu_time);
  EXPECT_EQ(p.memory, defaults.memory);
  EXPECT_EQ(p.pids, defaults.pids);
  EXPECT_EQ(p.effective_wall_time(), defaults.effective_wall_time());
  grader::BoxSpec spec;
  spec.argv = {"/usr/bin/python3", "-c", "pass"};
  spec.limits.cpu_time = 4;
  spec.limits.memory = 256ull << 20;
  spec.limits.disk = 8ull << 20;
  spec.limits.network = "loopback";
  spec.binds = {{"/srv/grader", "/grader", false}};
  spec.volumes = {{"/out", 0, 0, "", "/srv/out"}};
  spec.env = {{"A", "1"}};
  spec.channel = "/srv/channel";
  const sandbox::Policy box = grader::box_policy(spec, "/srv/run");
  sandbox::Policy read_back;
  sandbox::apply_json(read_back, sandbox::to_json(box));
  EXPECT_EQ(sandbox::validate(read_back), "");
  EXPECT_EQ(sandbox::to_json(read_back), sandbox::to_json(box));
  EXPECT_EQ(read_back.cpu_time, 4);
  EXPECT_EQ(read_back.effective_wall_time(), 12);
  EXPECT_EQ(read_back.memory, 256ull << 20);
  EXPECT_EQ(read_back.network, sandbox::Network::Loopback);
  ASSERT_EQ(read_back.tmpfs.size(), 1u);
  EXPECT_EQ(read_back.tmpfs[0].size, 8ull << 20);
  EXPECT_EQ(read_back.tmpfs[0].inodes, static_cast<uint64_t>(grader::kDefaultInodes));
  EXPECT_EQ(read_back.tmpfs[0].collect, "/srv/out");
  EXPECT_EQ(read_back.stdout_path, "/srv/run/stdout.txt");
  EXPECT_EQ(read_back.channel_path, "/srv/channel");
}

TEST(FuzzFindings, APolicySurvivesToJsonAndBack) {
  sandbox::Policy p;  // no program yet: to_json writes argv [], which apply_json takes back
  sandbox::Policy again;
  ASSERT_NO_THROW(sandbox::apply_json(again, sandbox::to_json(p)));
  EXPECT_EQ(sandbox::to_json(again), sandbox::to_json(p));
  EXPECT_EQ(sandbox::validate(again), "no program to run");
  // A bind's "writable" that is not a boolean, or a key it does not know, is refused by name.
  for (const char* bad : {R"({"binds": [{"src": "/usr", "writable": 512}]})",
                          R"({"binds": [{"src": "/usr", "dstze": "/x"}]})"}) {
    sandbox::Policy q;
    EXPECT_THROW(sandbox::apply_json(q, json::parse(bad)), std::invalid_argument) << bad;
  }
}
