// End to end: the fixture assignment tests/fixtures/mini (plain Python) graded through real
// grader-sandbox runs, in-process (grader::grade) and through the grader CLI.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <thread>

#include "grader/course/variants.h"
#include "grader/engine/engine.h"
#include "grader/engine/intake.h"
#include "reports/record.h"
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

// The schema, and the typed mapping of reports/record.h: every entry of the file reads back
// (strictly) and writes back to the same JSON.
int validate_against_schema(const fs::path& file) {
  const json written = json::parse(std::ifstream(file));
  EXPECT_EQ(json(reports::tests_of(written)), written["tests"]) << file;
  EXPECT_EQ(json(reports::totals_from_json(written["totals"])), written["totals"]) << file;
  return run("/usr/bin/python3 -c 'import json,sys,jsonschema; "
             "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
             (fs::path(SOURCE_DIR) / "reports/score.schema.json").string() + " " + file.string())
      .status;
}

// Writes the fixture's solution/ ("solution"), or one of its variants, into `dest`.
void open_submission(const fs::path& fixture, const std::string& name, const fs::path& dest) {
  if (name == "solution")
    grader::copy_tree(fixture / "solution", dest);
  else
    grader::open_variant(fixture, fixture / "variants" / (name + ".patch"), dest);
}

// Grades the fixture's solution and variants once, two at a time; the tests read the results.
class Engine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
    scratch_ = fs::temp_directory_path() / ("grader-engine-test-" + std::to_string(getpid()));
    fs::create_directories(scratch_);
    std::vector<std::string> names = {"solution",    "partial",          "hostile",
                                      "slow",        "forge_exit",       "forge_osexit",
                                      "forge_files", "perf_slow_low_run"};
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

  // solution/, or variants/<name>.patch opened over it.
  static json grade_named(const std::string& name) {
    fs::path staged = scratch_ / ("sub-" + name);
    open_submission(kFixture, name, staged);
    grader::GradeRequest req;
    req.assignment_dir = kFixture;
    req.submission = staged;
    req.student = name;
    req.scratch_root = scratch_;
    return grader::grade(req);
  }

  static double expected_total(const std::string& variant) {
    for (const grader::Variant& v : grader::list_variants(kFixture))
      if (v.name == variant) return v.score;
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
  // As root the Python runs start warm (the fixture preloads json); the rest start cold.
  const json& start = s["host"]["start"];
  EXPECT_EQ(start["preload"], json::array({"json"}));
  if (geteuid() == 0) {
    EXPECT_GT(start["warm_runs"].get<int>(), 0) << start.dump();
    EXPECT_TRUE(start["cold_note"].is_null()) << start.dump();
  } else {
    EXPECT_EQ(start["warm_runs"], 0);
  }
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
  // Three pairs, or two valid ones in one band (then the third could not change the points).
  const bool decided = slow["perf"]["decided_early"].get<bool>();
  EXPECT_GE(slow["perf"]["pairs"].size(), decided ? 2u : 3u) << slow.dump(2);
  EXPECT_GE(slow["perf"]["speedups"].size(), 2u);  // the valid pairs
  EXPECT_DOUBLE_EQ(score("slow")["totals"]["final"].get<double>(), expected_total("slow"));
  // Capped at the top threshold (0.4) where full points are reached.
  EXPECT_DOUBLE_EQ(fast["perf"]["speedup"].get<double>(),
                   std::min(fast["perf"]["median"].get<double>(), 0.4));
  for (const json& pair : fast["perf"]["pairs"]) {
    for (const char* key : {"b_low", "b_high", "s_high", "startup", "speedup"})
      EXPECT_TRUE(pair[key].is_number()) << key << pair.dump();
  }
}

// Slow on purpose in the low-iteration run only: the student never runs the low count, so
// the slow code earns its own (failing) speed, not the huge one the old differencing gave.
TEST_F(Engine, PerfLowRunSlowdownGainsNothing) {
  const json& s = score("perf_slow_low_run");
  const json& perf = test_entry(s, "perf_sumsq");
  EXPECT_DOUBLE_EQ(perf["score"].get<double>(), 0.0) << perf.dump(2);
  EXPECT_LT(perf["perf"]["median"].get<double>(), 0.25) << perf.dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), expected_total("perf_slow_low_run"));
  EXPECT_EQ(perf["trust"], "measured");
  EXPECT_EQ(test_entry(s, "public_basic")["trust"], "self_reported");
  EXPECT_DOUBLE_EQ(s["totals"]["self_reported_points"].get<double>(),
                   test_entry(s, "public_basic")["max_score"].get<double>());
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

TEST_F(Engine, TimeScaleIsAnnouncedAndRecorded) {
  // From the environment as from the option; never silent.
  CommandResult r = run("GRADER_TIME_SCALE=2.5 " + kGrader.string() + " check --json " +
                        kFixture.string() + " " + (kFixture / "solution").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("grader check: time limits scaled by 2.5 (--time-scale)"),
            std::string::npos)
      << r.output;
  json s = json::parse(r.output.substr(r.output.find('{')), nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << r.output;
  EXPECT_DOUBLE_EQ(s["host"]["time_scale"].get<double>(), 2.5);
  // Unscaled gradings record 1 and say nothing.
  EXPECT_DOUBLE_EQ(score("solution")["host"]["time_scale"].get<double>(), 1.0);
  for (const char* bad : {"0", "-1", "x"}) {
    r = run(kGrader.string() + " check " + kFixture.string() + " " +
            (kFixture / "solution").string() + " --time-scale " + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.output;
  }
}

TEST_F(Engine, WarmStartCanBeTurnedOffAndGradesAlike) {
  fs::path out = scratch_ / "cold-out";
  auto r = run("GRADER_WARM=0 " + kGrader.string() + " grade " + kFixture.string() + " " +
               (kFixture / "solution").string() + " --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(out / "score.json");
  json cold = json::parse(in);
  EXPECT_EQ(cold["host"]["start"]["warm_runs"], 0);
  EXPECT_NE(cold["host"]["start"]["cold_note"].get<std::string>().find("GRADER_WARM=0"),
            std::string::npos);
  EXPECT_EQ(cold["totals"]["final"], score("solution")["totals"]["final"]);
  for (const json& t : cold["tests"])
    EXPECT_EQ(t["score"], test_entry(score("solution"), t["id"].get<std::string>())["score"]);
  // The perf test's pairs ran at the manifest's iterations cold, at its warm_iterations warm.
  const json& cold_perf = test_entry(cold, "perf_sumsq")["perf"];
  EXPECT_EQ(cold_perf["warm_iterations"], json::array({2, 17})) << cold_perf.dump();
  for (const json& pair : cold_perf["pairs"])
    EXPECT_EQ(pair["iterations"], json::array({1, 21})) << cold_perf.dump();
  const json& warm = test_entry(score("solution"), "perf_sumsq");
  const json want = geteuid() == 0 ? json::array({2, 17}) : json::array({1, 21});
  for (const json& pair : warm["perf"]["pairs"])
    EXPECT_EQ(pair["iterations"], want) << warm["perf"].dump();
  EXPECT_NE(warm["output"].get<std::string>().find(geteuid() == 0 ? "(sized for warm starts)"
                                                                  : "baseline at 1 and 21"),
            std::string::npos)
      << warm["output"];
}

// The zygote dies while the perf test runs (killed from outside, as the OOM killer might): the
// test is measured again at the cold counts, with the same score.
TEST_F(Engine, AZygoteLostMidPerfTestMeasuresAtTheColdCounts) {
  if (geteuid() != 0) GTEST_SKIP() << "the zygote needs root (README.md, \"Warm start\")";
  const fs::path tmp = scratch_ / "zygote-lost", out = tmp / "out";
  fs::create_directories(tmp);
  // Kill the grading's own zygote (its socket is under this TMPDIR; -o: the oldest, not a run
  // it forked) once the first perf pair's first run has its folder. "[s]": the pattern does
  // not match this shell's own command line.
  auto r = run("export TMPDIR=" + tmp.string() + "; " + kGrader.string() + " grade " +
               kFixture.string() + " " + (kFixture / "solution").string() + " --out " +
               out.string() + " & g=$!; for i in $(seq 3000); do ls -d " + tmp.string() +
               "/grade-*/runs/*-perf_sumsq/pair-0-0/* >/dev/null 2>&1 && break; sleep 0.002; "
               "done; pkill -KILL -o -f " +
               tmp.string() + "/grader-zygote[s]; wait $g");
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(out / "score.json");
  json s = json::parse(in);
  const json& perf = test_entry(s, "perf_sumsq");
  EXPECT_DOUBLE_EQ(perf["score"].get<double>(), 20.0) << perf.dump(2);
  EXPECT_EQ(s["totals"]["final"], score("solution")["totals"]["final"]);
  // Measured again from the first pair, every pair at the cold counts: no median mixes them.
  EXPECT_NE(perf["output"].get<std::string>().find("measured again at these counts"),
            std::string::npos)
      << perf["output"];
  EXPECT_GE(perf["perf"]["pairs"].size(), 2u) << perf["perf"].dump();
  for (const json& pair : perf["perf"]["pairs"])
    EXPECT_EQ(pair["iterations"], json::array({1, 21})) << perf["perf"].dump();
  EXPECT_FALSE(s["host"]["start"]["cold_note"].get<std::string>().empty()) << s["host"].dump();
}

TEST_F(Engine, SelftestOfTheFixturePasses) {
  CommandResult r = run(kGrader.string() + " selftest -j 2 " + kFixture.string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("10 of 10 self-test gradings as expected"), std::string::npos)
      << r.output;
  // Per-pair speedups with the margins to the thresholds, and the self-reported points.
  EXPECT_NE(r.output.find("perf mini solution perf_sumsq: pairs "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("margin 0.4x: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mini: 20 of 100 points rest on self_reported tests (public_basic)"),
            std::string::npos)
      << r.output;
}

}  // namespace

namespace {

// Issue 12: `python3 -m pytest tests` leaves .pytest_cache/ and __pycache__/ behind; the a1
// reference solution with both (and a .DS_Store) must grade exactly as the clean one: full
// points (what `grader selftest a1` asserts of the clean one), the same staged content.
TEST(EngineClutter, A1SolutionWithCacheFoldersScoresLikeTheCleanOne) {
  setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
  const fs::path a1 = fs::path(SOURCE_DIR) / "assignments/a1";
  fs::path scratch =
      fs::temp_directory_path() / ("grader-clutter-test-" + std::to_string(getpid()));
  fs::create_directories(scratch);
  fs::path sub = scratch / "sub";
  grader::copy_tree(a1 / "solution", sub);
  fs::create_directories(sub / ".pytest_cache/v/cache");
  std::ofstream(sub / ".pytest_cache/v/cache/lastfailed") << "{}";
  std::ofstream(sub / ".pytest_cache/README.md") << "# pytest cache directory #";
  fs::create_directories(sub / "__pycache__");
  std::ofstream(sub / "__pycache__/autodiff.cpython-311.pyc") << std::string(64, '\x01');
  std::ofstream(sub / "__pycache__/x.pyc") << "\x03";
  std::ofstream(sub / ".DS_Store") << "mac";

  grader::GradeRequest req;
  req.assignment_dir = a1;
  req.submission = sub;
  req.student = "cluttered";
  req.scratch_root = scratch;
  json s = grader::grade(req);
  ASSERT_EQ(s["status"], "graded") << s.dump(2);
  EXPECT_TRUE(s["submission"]["rejected"].is_null()) << s["submission"].dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), s["totals"]["max"].get<double>())
      << s.dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["max"].get<double>(), 100.0);
  EXPECT_EQ(s["submission"]["content_hash"], grader::hash_tree(a1 / "solution"));
  EXPECT_EQ(s["submission"]["files"], 1);
  std::set<std::string> ignored;
  for (const json& e : s["submission"]["ignored"]) ignored.insert(e["path"].get<std::string>());
  EXPECT_EQ(ignored, (std::set<std::string>{".DS_Store", ".pytest_cache/", "__pycache__/"}));
  EXPECT_FALSE(s.contains("cleanup")) << s["cleanup"].dump();
  reports::write_score_json(scratch / "score.json", s);
  EXPECT_EQ(validate_against_schema(scratch / "score.json"), 0);
  // Nothing of the grading is left: only what this test made.
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(scratch)) left.insert(e.path().filename());
  EXPECT_EQ(left, (std::set<std::string>{"sub", "score.json"}));
  fs::remove_all(scratch);
}

}  // namespace

namespace {

// Issue 11: a grading's scratch folder is 0700 (the sandbox binds its folders into the box, so
// no box walks the host path), the grading still passes, and a clean-up failure is a field
// the schema knows.
TEST(EngineScratch, ScratchFolderIsPrivateAndACleanupFailureIsRecorded) {
  setenv("GRADER_SANDBOX", kSandbox.c_str(), 1);
  fs::path root = fs::temp_directory_path() / ("grader-scratch-test-" + std::to_string(getpid()));
  fs::create_directories(root);
  grader::GradeRequest req;
  req.assignment_dir = kFixture;
  req.submission = kFixture / "solution";
  req.student = "private";
  req.scratch_root = root;
  setenv("GRADER_KEEP_SCRATCH", "1", 1);
  json s = grader::grade(req);
  unsetenv("GRADER_KEEP_SCRATCH");
  ASSERT_EQ(s["status"], "graded") << s.dump(2);
  EXPECT_DOUBLE_EQ(s["totals"]["final"].get<double>(), 100.0) << s.dump(2);
  EXPECT_FALSE(s.contains("warnings")) << s["warnings"].dump();
  int scratches = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.path().filename().string().rfind("grade-", 0) != 0) continue;
    ++scratches;
    struct stat st {};
    ASSERT_EQ(lstat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u) << e.path();
  }
  EXPECT_EQ(scratches, 1);

  reports::Score record = reports::score_from_json(s);
  grader::record_cleanup_failure(record, "/tmp/grade-x/runs/1-work/deep: Permission denied");
  grader::record_cleanup_failure(record, "a later one");
  s = record;
  EXPECT_EQ(s["cleanup"],
            json({{"ok", false}, {"error", "/tmp/grade-x/runs/1-work/deep: Permission denied"}}));
  EXPECT_EQ(reports::score_from_json(s), record);
  reports::write_score_json(root / "score.json", s);
  EXPECT_EQ(validate_against_schema(root / "score.json"), 0);
  fs::remove_all(root);
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

  // Grades the fixture's solution or variant `name`; `fixture` may be a changed copy of it.
  static json grade(const std::string& name,
                    const fs::path& fixture = fs::path(SOURCE_DIR) / "tests/fixtures/measured") {
    fs::path staged = scratch_ / ("sub-" + fixture.parent_path().filename().string() + "-" + name);
    open_submission(fixture, name, staged);
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

TEST_F(MeasuredBaseline, BothRunsStartWarmWhereTheAssignmentPreloads) {
  // The same fixture with a preload list: the baseline's and the student's runs are forks of
  // one zygote, and the memory case still tells a kept list from a stream.
  const fs::path fixture = scratch_ / "warm" / "measured";
  grader::copy_tree(fs::path(SOURCE_DIR) / "tests/fixtures/measured", fixture);
  std::ifstream in(fixture / "assignment.toml");
  std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = manifest.find("[runtime.limits]");
  ASSERT_NE(at, std::string::npos);
  manifest.insert(at, "[runtime]\npreload = [\"json\"]\n\n");
  std::ofstream(fixture / "assignment.toml", std::ios::trunc) << manifest;
  for (const char* name : {"solution", "hog"}) {
    json s = grade(name, fixture);
    ASSERT_EQ(s["status"], "graded") << s.dump(2);
    if (geteuid() == 0) {  // the zygote needs root (README.md, "Warm start")
      EXPECT_EQ(s["host"]["start"]["cold_runs"], 0) << name << s["host"].dump(2);
      EXPECT_GE(s["host"]["start"]["warm_runs"], 3) << name << s["host"].dump(2);
    }
    const json& t = test_entry(s, "hidden_stream");
    EXPECT_EQ(t["cases"]["passed"], std::string(name) == "solution" ? 3 : 2) << name << t.dump(2);
  }
}

TEST_F(MeasuredBaseline, AFailingBaselineIsUngradable) {
  // A copy of the fixture whose baseline raises: the submission is not to blame.
  const fs::path fixture = scratch_ / "broken" / "measured";
  grader::copy_tree(fs::path(SOURCE_DIR) / "tests/fixtures/measured", fixture);
  std::ofstream(fixture / "hidden/baseline/streams.py", std::ios::trunc)
      << "def sum_of_squares(n):\n    raise RuntimeError('broken baseline')\n";
  json s = grade("solution", fixture);
  EXPECT_EQ(s["status"], "ungradable") << s.dump(2);
  EXPECT_NE(s.dump().find("baseline run failed"), std::string::npos) << s.dump(2);
}

}  // namespace
