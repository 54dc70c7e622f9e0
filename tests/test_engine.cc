// End to end: the fixture assignment tests/fixtures/mini (plain Python) graded through real
// grader-sandbox runs, in-process (grader::grade) and through the grader CLI.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <thread>

#include "grader/engine.h"
#include "grader/intake.h"
#include "reports/score.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixture = fs::path(SOURCE_DIR) / "tests/fixtures/mini";
const fs::path kGrader = fs::path(BUILD_DIR) / "bin/grader";
const fs::path kSandbox = fs::path(BUILD_DIR) / "bin/grader-sandbox";

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command line (built from trusted test paths), capturing stdout and stderr.
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

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

const json& test_entry(const json& score, const std::string& id) {
  for (const json& t : score["tests"]) {
    if (t["id"] == id) return t;
  }
  throw std::runtime_error("no test " + id);
}

double points_of(const json& score, const std::string& id) {
  return test_entry(score, id)["score"].get<double>();
}

int validate_against_schema(const fs::path& file) {
  return run("/usr/bin/python3 -c 'import json,sys,jsonschema; "
             "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
             (fs::path(SOURCE_DIR) / "reports/score.schema.json").string() + " " + file.string())
      .status;
}

// Grades the fixture's solution and variants once, two at a time; the tests read the results.
class Engine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
    scratch_ = fs::temp_directory_path() / ("grader-engine-test-" + std::to_string(getpid()));
    fs::create_directories(scratch_);
    std::vector<std::string> names = {"solution",   "partial",      "hostile",    "slow",
                                      "forge_exit", "forge_osexit", "forge_files"};
    std::vector<json> results(names.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next++) < names.size();) results[i] = grade_named(names[i]);
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    for (size_t i = 0; i < names.size(); ++i) scores_[names[i]] = results[i];
  }
  static void TearDownTestSuite() { fs::remove_all(scratch_); }

  // solution/ or variants/<name> minus expected.toml.
  static json grade_named(const std::string& name) {
    fs::path source = name == "solution" ? kFixture / "solution" : kFixture / "variants" / name;
    fs::path staged = scratch_ / ("sub-" + name);
    grader::copy_tree(source, staged);
    fs::remove(staged / "expected.toml");
    grader::GradeRequest req;
    req.assignment_dir = kFixture;
    req.submission = staged;
    req.student = name;
    req.scratch_root = scratch_;
    return grader::grade(req);
  }

  static double expected_total(const std::string& variant) {
    std::ifstream in(kFixture / "variants" / variant / "expected.toml");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("score = ", 0) == 0) return std::stod(line.substr(8));
    }
    return -1;
  }

  static const json& score(const std::string& name) { return scores_.at(name); }

  static inline fs::path scratch_;
  static inline std::map<std::string, json> scores_;
};

TEST_F(Engine, CorrectSubmissionGetsFullPoints) {
  const json& s = score("solution");
  ASSERT_EQ(s["status"], "graded") << s.dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 100.0) << s.dump(2);
  for (const json& t : s["tests"]) EXPECT_EQ(t["status"], "passed") << t.dump(2);
  EXPECT_TRUE(test_entry(s, "public_basic")["self_reported"].get<bool>());
  EXPECT_FALSE(test_entry(s, "hidden_dot")["self_reported"].get<bool>());
  EXPECT_EQ(s["submission"]["content_hash"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(s["assignment"]["hash"], grader::assignment_hash(kFixture));
  EXPECT_FALSE(s["host"]["kernel"].get<std::string>().empty());
  reports::write_score_json(scratch_ / "solution-score.json", s);
  EXPECT_EQ(validate_against_schema(scratch_ / "solution-score.json"), 0);
}

TEST_F(Engine, PartlyWrongGetsExactlyThePartialPoints) {
  const json& s = score("partial");
  ASSERT_EQ(s["status"], "graded");
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 75.0) << s.dump(2);
  const json& basic = test_entry(s, "public_basic");
  EXPECT_DOUBLE_EQ(basic["score"].get<double>(), 15.0);
  EXPECT_EQ(basic["status"], "partial");
  EXPECT_EQ(basic["cases"], json({{"passed", 3}, {"total", 4}}));
  const json& fib = test_entry(s, "hidden_fib");  // all or nothing: 1 of 2 cases is nothing
  EXPECT_DOUBLE_EQ(fib["score"].get<double>(), 0.0);
  EXPECT_EQ(fib["cases"], json({{"passed", 1}, {"total", 2}}));
  EXPECT_DOUBLE_EQ(points_of(s, "hidden_dot"), 20.0);
  reports::write_score_json(scratch_ / "partial-score.json", s);
  EXPECT_EQ(validate_against_schema(scratch_ / "partial-score.json"), 0);
}

TEST_F(Engine, HostileSubmissionLosesOnlyTheAffectedTests) {
  const json& s = score("hostile");
  ASSERT_EQ(s["status"], "graded") << s.dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 25.0) << s.dump(2);
  EXPECT_DOUBLE_EQ(points_of(s, "public_basic"), 20.0);
  EXPECT_DOUBLE_EQ(points_of(s, "imports"), 5.0);
  for (const char* id : {"hidden_dot", "hidden_fib", "hidden_norm", "perf_sumsq"}) {
    EXPECT_DOUBLE_EQ(points_of(s, id), 0.0) << id;
    EXPECT_NE(test_entry(s, id)["verdict"], "ok") << id;
  }
  EXPECT_EQ(test_entry(s, "hidden_fib")["verdict"], "memory_limit");
  EXPECT_EQ(test_entry(s, "hidden_norm")["verdict"], "time_limit");
  EXPECT_EQ(test_entry(s, "perf_sumsq")["verdict"], "output_limit");
  const std::string fork_verdict = test_entry(s, "hidden_dot")["verdict"];
  EXPECT_TRUE(fork_verdict == "process_limit" || fork_verdict == "time_limit") << fork_verdict;
  reports::write_score_json(scratch_ / "hostile-score.json", s);
  EXPECT_EQ(validate_against_schema(scratch_ / "hostile-score.json"), 0);
}

TEST_F(Engine, ForgeriesDoNotChangeTrustedVerdicts) {
  for (const char* name : {"forge_exit", "forge_osexit", "forge_files"}) {
    const json& s = score(name);
    ASSERT_EQ(s["status"], "graded") << name << s.dump(2);
    for (const char* id : {"hidden_dot", "hidden_fib", "hidden_norm", "perf_sumsq"}) {
      EXPECT_DOUBLE_EQ(points_of(s, id), 0.0) << name << " " << id << "\n"
                                              << test_entry(s, id).dump(2);
    }
    EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), expected_total(name)) << name;
  }
  // The forger's own junk never reaches the checker: its symlinks in /out are dropped.
  const json& dot = test_entry(score("forge_files"), "hidden_fib");
  EXPECT_NE(dot["output"].get<std::string>().find("ignored output"), std::string::npos)
      << dot.dump(2);
}

TEST_F(Engine, PerfFailsTheSlowAndPassesTheFast) {
  const json& fast = test_entry(score("solution"), "perf_sumsq");
  const json& slow = test_entry(score("slow"), "perf_sumsq");
  EXPECT_DOUBLE_EQ(fast["score"].get<double>(), 20.0) << fast.dump(2);
  EXPECT_GE(fast["perf"]["speedup"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(slow["score"].get<double>(), 0.0) << slow.dump(2);
  EXPECT_LT(slow["perf"]["speedup"].get<double>(), 0.25);
  EXPECT_EQ(slow["perf"]["speedups"].size(), 3u);
  EXPECT_DOUBLE_EQ(score("slow")["totals"]["final"].get<double>(), expected_total("slow"));
}

TEST_F(Engine, MissingFilesAreNamedBeforeAnyTestRuns) {
  fs::path sub = scratch_ / "missing";
  fs::create_directories(sub);
  std::ofstream(sub / "README.md") << "I forgot my code\n";
  grader::GradeRequest req;
  req.assignment_dir = kFixture;
  req.submission = sub;
  req.scratch_root = scratch_;
  json s = grader::grade(req);
  EXPECT_EQ(s["status"], "graded");
  ASSERT_TRUE(s["submission"]["rejected"].is_string()) << s.dump(2);
  EXPECT_NE(s["submission"]["rejected"].get<std::string>().find("mathops.py"), std::string::npos);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 0.0);
  for (const json& t : s["tests"]) EXPECT_EQ(t["status"], "not_run");
  reports::write_score_json(scratch_ / "missing-score.json", s);
  EXPECT_EQ(validate_against_schema(scratch_ / "missing-score.json"), 0);
}

TEST_F(Engine, BadArchivesAreRejected) {
  // Made with Python's zipfile and tarfile, as a student's tools would.
  fs::path zip = scratch_ / "evil.zip", tar = scratch_ / "evil.tar.gz";
  CommandResult made =
      run("/usr/bin/python3 -c '\nimport sys, tarfile, zipfile, io\n"
          "z = zipfile.ZipFile(sys.argv[1], \"w\")\nz.writestr(\"mathops.py\", \"x = 1\")\n"
          "z.writestr(\"../evil.py\", \"x = 1\")\nz.close()\n"
          "t = tarfile.open(sys.argv[2], \"w:gz\")\ni = tarfile.TarInfo(\"mathops.py\")\n"
          "i.type = tarfile.SYMTYPE\ni.linkname = \"/etc/passwd\"\nt.addfile(i)\nt.close()\n' " +
          zip.string() + " " + tar.string());
  ASSERT_EQ(made.status, 0) << made.output;
  for (const fs::path& archive : {zip, tar}) {
    grader::GradeRequest req;
    req.assignment_dir = kFixture;
    req.submission = archive;
    req.scratch_root = scratch_;
    json s = grader::grade(req);
    EXPECT_EQ(s["status"], "graded");
    EXPECT_TRUE(s["submission"]["rejected"].is_string()) << archive << s.dump(2);
    EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 0.0);
  }
}

TEST_F(Engine, InfrastructureFailureIsUngradableNotZero) {
  setenv("GRADER_SANDBOX", "/nonexistent/grader-sandbox", 1);
  grader::GradeRequest req;
  req.assignment_dir = kFixture;
  req.submission = kFixture / "solution";
  req.scratch_root = scratch_;
  json s = grader::grade(req);
  setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
  EXPECT_EQ(s["status"], "ungradable");
  EXPECT_NE(s["ungradable_reason"].get<std::string>().find("/nonexistent/grader-sandbox"),
            std::string::npos);
  reports::write_score_json(scratch_ / "ungradable-score.json", s);
  EXPECT_EQ(validate_against_schema(scratch_ / "ungradable-score.json"), 0);
  EXPECT_FALSE(reports::gradescope_results(s).contains("score"));
}

TEST_F(Engine, BadManifestOrRequestIsAnInputError) {
  grader::GradeRequest req;
  req.assignment_dir = kFixture / "hidden";
  req.submission = kFixture / "solution";
  EXPECT_THROW(grader::grade(req), grader::InputError);
  req.assignment_dir = kFixture;
  req.submitted_at = "yesterday";
  EXPECT_THROW(grader::grade(req), grader::InputError);
  EXPECT_THROW(grader::resolve_assignment("no_such_assignment"), grader::InputError);
  EXPECT_EQ(grader::resolve_assignment(kFixture.string()), fs::canonical(kFixture));
}

TEST_F(Engine, CliCheckShowsAStudentTheirPublicResults) {
  CommandResult r =
      run(kGrader.string() + " check " + kFixture.string() + " " + (kFixture / "handout").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(
      r.output.find("4 hidden tests were not run: passing these does not guarantee your grade"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("FAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NotImplementedError"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\033["), std::string::npos) << "no colour when not on a TTY";

  r = run(kGrader.string() + " check " + kFixture.string() + " " +
          (kFixture / "solution").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Public tests: 25 of 25 points"), std::string::npos) << r.output;
}

TEST_F(Engine, CliGradeWritesScoreResultsAndJunit) {
  fs::path out = scratch_ / "cli-out";
  // Due 2026-10-03T03:59:00Z; two days and a second late: 3 started days, 30% off.
  CommandResult r = run(kGrader.string() + " grade " + kFixture.string() + " " +
                        (kFixture / "solution").string() + " --out " + out.string() +
                        " --student alice --submitted-at 2026-10-05T03:59:01Z --junit " +
                        (out / "junit.xml").string() + " --min-score 50");
  ASSERT_EQ(r.status, 0) << r.output;
  json s = read_json(out / "score.json");
  EXPECT_EQ(s["submission"]["student"], "alice");
  EXPECT_EQ(s["submission"]["late_days"], 3);
  EXPECT_EQ(s["submission"]["submitted_at_source"], "option");
  EXPECT_DOUBLE_EQ(s["totals"]["late_penalty"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 70.0);
  EXPECT_EQ(validate_against_schema(out / "score.json"), 0);
  json g = read_json(out / "results.json");
  EXPECT_DOUBLE_EQ(g["score"].get<double>(), 70.0);
  for (const char* key : {"execution_time", "output", "visibility", "stdout_visibility", "tests"}) {
    EXPECT_TRUE(g.contains(key)) << key;
  }
  ASSERT_EQ(g["tests"].size(), 6u);
  for (const json& t : g["tests"]) {
    for (const char* key : {"score", "max_score", "name", "output", "visibility", "status"}) {
      EXPECT_TRUE(t.contains(key)) << key;
    }
  }
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file((out / "junit.xml").c_str()));
  EXPECT_EQ(doc.child("testsuites").child("testsuite").attribute("tests").as_int(), 6);

  // Below --min-score: exit 1 (a forger gets only the exit-status test).
  r = run(kGrader.string() + " grade " + kFixture.string() + " " +
          (scratch_ / "sub-forge_osexit").string() + " --out " + (scratch_ / "cli-out2").string() +
          " --min-score 10");
  EXPECT_EQ(r.status, 1) << r.output;
}

TEST_F(Engine, CliUsageErrorsExitTwo) {
  EXPECT_EQ(
      run(kGrader.string() + " grade " + kFixture.string() + " " + (kFixture / "solution").string())
          .status,
      2);
  CommandResult r =
      run(kGrader.string() + " grade no_such_assignment . --out " + (scratch_ / "x").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no assignment 'no_such_assignment'"), std::string::npos) << r.output;
  r = run(kGrader.string() + " check " + kFixture.string() + " " +
          (scratch_ / "does-not-exist").string());
  EXPECT_EQ(r.status, 2) << r.output;
}

TEST_F(Engine, SelftestOfTheFixturePasses) {
  CommandResult r = run(kGrader.string() + " selftest -j 2 " + kFixture.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("8 of 8 self-test gradings as expected"), std::string::npos) << r.output;
}

}  // namespace

namespace {

// measure_baseline: the fixture tests/fixtures/measured grades memory. Its driver runs over
// the baseline folder and over the submission; the checker believes only /measured, which
// the grader wrote from the sandbox's results, and compares with /baseline's outputs.
class MeasuredBaseline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
    scratch_ = fs::temp_directory_path() / ("grader-measured-test-" + std::to_string(getpid()));
    fs::create_directories(scratch_);
  }
  static void TearDownTestSuite() { fs::remove_all(scratch_); }

  static json grade(const std::string& name) {
    const fs::path fixture = fs::path(SOURCE_DIR) / "tests/fixtures/measured";
    fs::path source = name == "solution" ? fixture / "solution" : fixture / "variants" / name;
    fs::path staged = scratch_ / ("sub-" + name);
    grader::copy_tree(source, staged);
    fs::remove(staged / "expected.toml");
    grader::GradeRequest req;
    req.assignment_dir = fixture;
    req.submission = staged;
    req.student = name;
    req.scratch_root = scratch_;
    return grader::grade(req);
  }

  static inline fs::path scratch_;
};

TEST_F(MeasuredBaseline, TheReferenceSpendsWhatTheBaselineSpends) {
  json s = grade("solution");
  ASSERT_EQ(s["status"], "graded") << s.dump(2);
  const json& t = test_entry(s, "hidden_stream");
  EXPECT_DOUBLE_EQ(t["score"].get<double>(), 10.0) << t.dump(2);
  EXPECT_EQ(t["cases"], json({{"passed", 3}, {"total", 3}})) << t.dump(2);
}

TEST_F(MeasuredBaseline, KeepingTheListCostsTheMemoryCaseWhateverTheBoxWrites) {
  for (const char* name : {"hog", "forge_measured"}) {
    json s = grade(name);
    ASSERT_EQ(s["status"], "graded") << s.dump(2);
    const json& t = test_entry(s, "hidden_stream");
    EXPECT_EQ(t["cases"], json({{"passed", 2}, {"total", 3}})) << name << t.dump(2);
    EXPECT_NE(t["output"].get<std::string>().find("more than the reference at its peak"),
              std::string::npos)
        << name << t.dump(2);
  }
}

TEST_F(MeasuredBaseline, AFailingBaselineIsUngradable) {
  // A copy of the fixture whose baseline raises: the submission is not to blame.
  const fs::path fixture = scratch_ / "broken" / "measured";
  grader::copy_tree(fs::path(SOURCE_DIR) / "tests/fixtures/measured", fixture);
  std::ofstream(fixture / "hidden/baseline/streams.py", std::ios::trunc)
      << "def sum_of_squares(n):\n    raise RuntimeError('broken baseline')\n";
  fs::path staged = scratch_ / "sub-broken";
  grader::copy_tree(fixture / "solution", staged);
  grader::GradeRequest req;
  req.assignment_dir = fixture;
  req.submission = staged;
  req.scratch_root = scratch_;
  json s = grader::grade(req);
  EXPECT_EQ(s["status"], "ungradable") << s.dump(2);
  EXPECT_NE(s.dump().find("baseline run failed"), std::string::npos) << s.dump(2);
}

}  // namespace
