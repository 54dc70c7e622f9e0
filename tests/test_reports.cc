// Writers: score.json against its schema (Debian's python3-jsonschema, an independent
// validator), Gradescope's results.json fields, well-formed JUnit XML, atomic writes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <pugixml.hpp>
#include <vector>

#include "reports/atomic.h"
#include "reports/fields.h"
#include "reports/record.h"
#include "reports/score.h"
#include "reports/summary.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json sample_score() {
  return json::parse(R"({
    "schema_version": 1, "status": "graded", "ungradable_reason": null,
    "assignment": {"id": "mini", "title": "Mini", "version": "1.0.0",
                   "hash": "sha256:0000000000000000000000000000000000000000000000000000000000000000"},
    "submission": {"student": "alice", "content_hash": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                   "submitted_at": "2026-10-03T10:00:00Z", "submitted_at_source": "option", "late_days": 1,
                   "due_at": "2026-10-03T03:59:00Z", "files": 1, "bytes": 100, "rejected": null},
    "grader": {"version": "0.1.0", "mode": "grade"},
    "host": {"kernel": "6.1.0", "cgroup": "v2", "user_namespace": true, "enforced": {"memory": "cgroup v2"}},
    "tests": [
      {"id": "public_basic", "name": "add and mul", "visibility": "public", "kind": "pytest", "score": 15.0,
       "max_score": 20.0, "status": "partial", "verdict": "nonzero_exit", "limit_reason": null, "self_reported": true,
       "cases": {"passed": 3, "total": 4}, "cpu_seconds": 0.3, "wall_seconds": 0.4, "peak_memory_bytes": 1000,
       "output": "FAILED test_basic.py::test_mul_zero - assert 1 == 0\n"},
      {"id": "hidden_dot", "name": "dot <products> & \"more\"", "visibility": "hidden", "kind": "produce_check",
       "score": 20.0, "max_score": 20.0, "status": "passed", "verdict": "ok", "check_verdict": "nonzero_exit",
       "limit_reason": null, "self_reported": false, "output": "ok"},
      {"id": "hidden_norm", "name": "normalize", "visibility": "after_due_date", "kind": "produce_check",
       "score": 0.0, "max_score": 15.0, "status": "failed", "verdict": "time_limit", "limit_reason": "cpu",
       "self_reported": false, "output": "Killed: CPU time limit"},
      {"id": "perf", "name": "perf", "visibility": "hidden", "kind": "perf", "score": 0.0, "max_score": 10.0,
       "status": "not_run", "verdict": null, "limit_reason": null, "self_reported": false, "output": "",
       "perf": {"measure": "cpu", "speedup": null, "speedups": []}}
    ],
    "build": null,
    "totals": {"raw": 35.0, "max": 65.0, "late_penalty": 3.5, "final": 31.5, "percent": 48.4615},
    "started_at": "2026-10-03T10:00:01Z", "finished_at": "2026-10-03T10:00:09Z", "duration_seconds": 8.0
  })");
}

class Reports : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("grader-reports-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Exit status of Debian's jsonschema validating `file` against reports/score.schema.json.
  int validate(const fs::path& file) {
    std::string cmd =
        "/usr/bin/python3 -c 'import json,sys,jsonschema; "
        "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
        (fs::path(SOURCE_DIR) / "reports/score.schema.json").string() + " " + file.string() +
        " 2>/dev/null";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  fs::path dir_;
};

}  // namespace

TEST_F(Reports, ScoreJsonValidatesAgainstSchema) {
  reports::write_score_json(dir_ / "score.json", sample_score());
  EXPECT_EQ(validate(dir_ / "score.json"), 0);
  // The validator is not a rubber stamp: a broken score fails it.
  json bad = sample_score();
  bad["tests"][0]["status"] = "great";
  reports::write_score_json(dir_ / "bad.json", bad);
  EXPECT_NE(validate(dir_ / "bad.json"), 0);
  bad = sample_score();
  bad.erase("totals");
  reports::write_score_json(dir_ / "bad.json", bad);
  EXPECT_NE(validate(dir_ / "bad.json"), 0);
}

// Schema version 2 adds trust levels and self_reported totals; version 1 files still validate.
TEST_F(Reports, TrustFieldsValidate) {
  json v2 = sample_score();
  v2["schema_version"] = reports::kScoreSchemaVersion;
  const char* levels[] = {"self_reported", "outputs", "outputs", "measured"};
  for (size_t i = 0; i < 4; ++i) v2["tests"][i]["trust"] = levels[i];
  v2["totals"]["self_reported_points"] = 20.0;
  v2["totals"]["self_reported_score"] = 15.0;
  v2["tests"][3]["perf"] = {{"measure", "cpu"},
                            {"speedup", 3.0},
                            {"median", 5.1},
                            {"saturated", true},
                            {"speedups", {5.1}},
                            {"pairs",
                             {{{"b_low", 0.55},
                               {"b_high", 2.55},
                               {"s_high", 0.9},
                               {"startup", 0.5},
                               {"speedup", 5.1},
                               {"valid", true},
                               {"retries", 0}}}}};
  reports::write_score_json(dir_ / "v2.json", v2);
  EXPECT_EQ(validate(dir_ / "v2.json"), 0);
  v2["tests"][0]["trust"] = "believed";
  reports::write_score_json(dir_ / "bad.json", v2);
  EXPECT_NE(validate(dir_ / "bad.json"), 0);
  v2["tests"][0]["trust"] = "self_reported";
  v2["tests"][3]["perf"]["pairs"][0]["valid"] = "yes";
  reports::write_score_json(dir_ / "bad.json", v2);
  EXPECT_NE(validate(dir_ / "bad.json"), 0);
}

// The summary says how many points rest on self_reported tests, per test and per student,
// also for score files of version 1 (which carry only the boolean).
TEST_F(Reports, SummaryShowsSelfReportedPoints) {
  json info = {{"id", "mini"}, {"title", "Mini"}, {"version", "1"}, {"hash", "h"}, {"points", 65}};
  json alice = sample_score();
  json bob = sample_score();
  bob["submission"]["student"] = "bob";
  bob["tests"][0]["trust"] = "self_reported";
  bob["tests"][0]["score"] = 20.0;
  bob["totals"]["self_reported_points"] = 20.0;
  bob["totals"]["self_reported_score"] = 20.0;
  json s = reports::class_summary(info, {alice, bob}, nullptr);
  EXPECT_EQ(s["self_reported"]["tests"], json::array({"public_basic"}));
  EXPECT_DOUBLE_EQ(s["self_reported"]["points"].get<double>(), 20.0);
  EXPECT_EQ(s["tests"][0]["trust"], "self_reported");
  EXPECT_EQ(s["tests"][1]["trust"], "");  // version 1: only the boolean, false
  EXPECT_DOUBLE_EQ(s["students"][0]["self_reported_score"].get<double>(), 15.0);  // alice
  EXPECT_DOUBLE_EQ(s["students"][1]["self_reported_score"].get<double>(), 20.0);  // bob
  std::string csv = reports::summary_csv(s);
  EXPECT_NE(csv.find(",self_reported_points,self_reported_score,"), std::string::npos) << csv;
  std::string html = reports::summary_html(s);
  EXPECT_NE(html.find("id=\"card-self-reported\""), std::string::npos);
  EXPECT_NE(html.find("<li>public_basic (add and mul, 20 points, public)</li>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"n sr-points\">15 / 20</td>"), std::string::npos);
  EXPECT_NE(html.find("public_basic<sup class=\"sr\">SR</sup>"), std::string::npos);
}

TEST_F(Reports, AtomicWriteLeavesNoTemporaries) {
  reports::write_file_atomic(dir_ / "sub/x.txt", "one");
  reports::write_file_atomic(dir_ / "sub/x.txt", "two");
  std::ifstream in(dir_ / "sub/x.txt");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "two");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "sub")) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(reports::write_file_atomic("/proc/no/such/dir/x", "x"), std::runtime_error);
}

TEST_F(Reports, GradescopeResultsCarryTheFields) {
  json g = reports::gradescope_results(sample_score());
  EXPECT_DOUBLE_EQ(g["score"].get<double>(), 31.5);
  EXPECT_DOUBLE_EQ(g["execution_time"].get<double>(), 8.0);
  for (const char* key : {"output", "visibility", "stdout_visibility"})
    EXPECT_TRUE(g[key].is_string()) << key;
  EXPECT_NE(g["output"].get<std::string>().find("Late by 1 day"), std::string::npos);
  ASSERT_EQ(g["tests"].size(), 4u);
  for (const json& t : g["tests"]) {
    for (const char* key : {"score", "max_score"}) EXPECT_TRUE(t[key].is_number()) << key;
    for (const char* key : {"name", "output", "visibility", "status"})
      EXPECT_TRUE(t[key].is_string()) << key;
  }
  EXPECT_EQ(g["tests"][0]["visibility"], "visible");
  EXPECT_EQ(g["tests"][0]["status"], "failed");  // partial is not a pass
  // A hidden test with points must not be Gradescope's "hidden" (students would see a total
  // that includes it at once): after_published by default, or the course's choice.
  EXPECT_EQ(g["tests"][1]["visibility"], "after_published");
  EXPECT_EQ(g["tests"][1]["status"], "passed");
  EXPECT_EQ(g["tests"][2]["visibility"], "after_due_date");
  EXPECT_EQ(reports::gradescope_results(sample_score(), "after_due_date")["tests"][1]["visibility"],
            "after_due_date");
  json zero = sample_score();
  zero["tests"][1]["max_score"] = 0.0;
  EXPECT_EQ(reports::gradescope_results(zero)["tests"][1]["visibility"], "hidden");

  json u = sample_score();
  u["status"] = "ungradable";
  u["ungradable_reason"] = "grader-sandbox could not start";
  json gu = reports::gradescope_results(u);
  EXPECT_FALSE(gu.contains("score"));  // never a zero for an infrastructure failure
  EXPECT_NE(gu["output"].get<std::string>().find("could not start"), std::string::npos);
}

// A rejected submission has no content hash; its results say why, with a zero score.
TEST_F(Reports, GradescopeResultsOfARejectedSubmission) {
  json r = sample_score();
  r["submission"]["content_hash"] = nullptr;
  r["submission"]["rejected"] = "file(s) not allowed by the assignment: 'notes.pdf'";
  json g = reports::gradescope_results(r);
  EXPECT_TRUE(g["extra_data"]["content_hash"].is_string());
  EXPECT_NE(g["output"].get<std::string>().find("notes.pdf"), std::string::npos);
  reports::write_gradescope_results(dir_ / "results.json", r);
  EXPECT_TRUE(fs::exists(dir_ / "results.json"));
}

// A JUnit gate must fail a rejected submission: a failure with the reason, and each test it
// lost a failure too (not a skip).
TEST_F(Reports, JunitOfARejectedSubmissionFails) {
  json r = sample_score();
  r["submission"]["rejected"] = "missing required file: autodiff.py";
  for (json& t : r["tests"]) t["status"] = "not_run";
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(reports::junit_xml(r).c_str()));
  pugi::xml_node suite = doc.child("testsuites").child("testsuite");
  EXPECT_EQ(suite.attribute("skipped").as_int(), 0);
  EXPECT_EQ(suite.attribute("failures").as_int(), 1 + static_cast<int>(r["tests"].size()));
  auto first = suite.find_child_by_attribute("testcase", "name", "submission");
  ASSERT_TRUE(first);
  EXPECT_NE(std::string(first.child("failure").attribute("message").value()).find("autodiff.py"),
            std::string::npos);
  // Without a rejection, a test that was not run (check mode) stays a skip.
  json c = sample_score();
  pugi::xml_document plain;
  ASSERT_TRUE(plain.load_string(reports::junit_xml(c).c_str()));
  EXPECT_EQ(plain.child("testsuites").child("testsuite").attribute("skipped").as_int(), 1);
}

TEST_F(Reports, JunitIsWellFormed) {
  json s = sample_score();
  s["tests"][0]["output"] = std::string("bad \x01\x02 bytes \xff\xfe and ]]> <tags> & more");
  s["tests"][0]["output"] = reports::printable_text(s["tests"][0]["output"].get<std::string>());
  reports::write_junit(dir_ / "junit.xml", s);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file((dir_ / "junit.xml").c_str()));
  auto suite = doc.child("testsuites").child("testsuite");
  EXPECT_EQ(suite.attribute("tests").as_int(), 4);
  EXPECT_EQ(suite.attribute("failures").as_int(), 2);
  EXPECT_EQ(suite.attribute("skipped").as_int(), 1);
  EXPECT_TRUE(suite.find_child_by_attribute("testcase", "name", "hidden_norm").child("failure"));
  // An independent parser agrees that it is well formed.
  std::string cmd =
      "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' " +
      (dir_ / "junit.xml").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(PrintableText, CleansUntrustedBytes) {
  EXPECT_EQ(reports::printable_text("plain\ttext\n"), "plain\ttext\n");
  EXPECT_EQ(reports::printable_text("a\r\nb"), "a\nb");
  EXPECT_EQ(reports::printable_text("\x1b[31mred"), "\xEF\xBF\xBD[31mred");
  EXPECT_EQ(reports::printable_text("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(reports::printable_text("\xC3"), "\xEF\xBF\xBD");                  // truncated
  EXPECT_EQ(reports::printable_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(reports::printable_text("\xED\xA0\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_NO_THROW(json(reports::printable_text("\xff\xfe\x00 x")).dump());
}

// reports/fields.h: every word of each closed set round-trips, the error lists read as the
// manifest's messages always have, and score.json gets the names.
TEST(Fields, EveryNameRoundTripsAndNothingElseParses) {
  auto check = [](auto values, const std::string& listed) {
    using E = typename decltype(values)::value_type;
    for (E v : values) {
      EXPECT_EQ(reports::parse<E>(reports::name(v)), v);
      EXPECT_EQ(nlohmann::json(v), std::string(reports::name(v)));
    }
    EXPECT_EQ(reports::names_listed<E>(), listed);
    EXPECT_FALSE(reports::parse<E>(""));
    EXPECT_FALSE(reports::parse<E>("Public"));  // names are exact, lower case
  };
  using namespace reports;
  check(std::vector{TestKind::Pytest, TestKind::ProduceCheck, TestKind::Perf, TestKind::Command},
        "pytest, produce_check, perf or command");
  check(std::vector{Visibility::Public, Visibility::Hidden, Visibility::AfterDueDate},
        "public, hidden or after_due_date");
  check(std::vector{Scoring::Proportional, Scoring::AllOrNothing},
        "proportional or all_or_nothing");
  check(std::vector{Measure::Cpu, Measure::Wall}, "cpu or wall");
  check(std::vector{Trust::Outputs, Trust::Measured, Trust::SelfReported},
        "outputs, measured or self_reported");
  EXPECT_EQ(reports::name(TestKind::ProduceCheck), "produce_check");
  EXPECT_EQ(reports::parse<Trust>("self_reported"), Trust::SelfReported);
}

// reports/record.h: the typed entries the engine writes map to JSON the schema accepts, and
// read back to the same values.
namespace {

std::vector<reports::TestEntry> sample_entries() {
  using namespace reports;
  TestEntry pytest{"public",
                   "Public tests",
                   Visibility::Public,
                   TestKind::Pytest,
                   7.5,
                   10,
                   TestStatus::Partial,
                   "nonzero_exit",
                   std::nullopt,
                   Trust::SelfReported,
                   "3 failed",
                   Cases{3, 4},
                   std::nullopt,
                   Usage{0.5, 0.75, 1u << 20},
                   nullptr};
  TestEntry check = pytest;
  check.id = "hidden_check";
  check.visibility = Visibility::Hidden;
  check.kind = TestKind::ProduceCheck;
  check.trust = Trust::Outputs;
  check.status = TestStatus::Passed;
  check.check_verdict = std::optional<std::string>("ok");
  TestEntry perf = check;
  perf.id = "perf";
  perf.kind = TestKind::Perf;
  perf.trust = Trust::Measured;
  perf.verdict = "time_limit";
  perf.limit_reason = "cpu";
  perf.check_verdict = std::optional<std::string>();  // null: no checked run
  perf.perf = {{"measure", "cpu"}, {"speedup", nullptr}, {"speedups", nlohmann::json::array()}};
  TestEntry not_run{"late",
                    "After the due date",
                    Visibility::AfterDueDate,
                    TestKind::Command,
                    0,
                    5,
                    TestStatus::NotRun,
                    std::nullopt,
                    std::nullopt,
                    Trust::Measured,
                    "Not run: the submission was rejected."};
  return {pytest, check, perf, not_run};
}

}  // namespace

TEST_F(Reports, TypedEntriesAndTotalsValidateAndReadBack) {
  json score = sample_score();
  score["tests"] = sample_entries();
  const reports::Totals totals{7.5, 30, 0, 7.5, 25, 10, 7.5};
  score["totals"] = totals;
  reports::write_score_json(dir_ / "typed.json", score);
  EXPECT_EQ(validate(dir_ / "typed.json"), 0);
  EXPECT_EQ(reports::tests_of(score), sample_entries());
  EXPECT_EQ(reports::totals_from_json(score["totals"]), totals);
  // Keys only some entries have stay out of the others; null stays null.
  EXPECT_FALSE(score["tests"][3].contains("cases"));
  EXPECT_FALSE(score["tests"][3].contains("cpu_seconds"));
  EXPECT_FALSE(score["tests"][0].contains("check_verdict"));
  EXPECT_TRUE(score["tests"][2]["check_verdict"].is_null());
  EXPECT_EQ(score["tests"][0]["self_reported"], true);  // kept for version 1 readers
  EXPECT_EQ(score["tests"][1]["self_reported"], false);
}

TEST(Record, ABadEntryNamesTheKeyAndVersionOneStillReads) {
  json entry = sample_entries()[0];
  auto error_of = [](const json& j) {
    try {
      reports::test_entry_from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json no_id = entry;
  no_id.erase("id");
  EXPECT_EQ(error_of(no_id), "missing \"id\"");
  json bad_kind = entry;
  bad_kind["kind"] = "quiz";
  EXPECT_EQ(error_of(bad_kind), "\"kind\" must be pytest, produce_check, perf or command");
  json bad_score = entry;
  bad_score["score"] = "ten";
  EXPECT_EQ(error_of(bad_score), "\"score\" has the wrong type");
  json version1 = entry;
  version1.erase("trust");
  EXPECT_EQ(reports::test_entry_from_json(version1).trust, reports::Trust::SelfReported);
  version1["self_reported"] = false;
  EXPECT_EQ(reports::test_entry_from_json(version1).trust, reports::Trust::Outputs);
}

namespace {

// A whole record with every optional part set, as a batch grading writes it.
reports::Score sample_record() {
  reports::Score s = reports::score_from_json(sample_score());
  s.tests = sample_entries();
  s.tests[0].usage->peak_memory_bytes = std::nullopt;  // null: not measured (schema allows it)
  s.submission.ignored = json::array({{{"path", "__pycache__"}, {"what", "cache folder"}}});
  s.submission.due_extension_days = std::optional<double>(2.0);
  s.build = {{"verdict", "ok"}, {"output", ""}};
  s.warnings = {"the sandbox runs without namespaces on this host"};
  s.cleanup_error = "/tmp/grade-x/runs/1-work: Permission denied";
  return s;
}

}  // namespace

TEST_F(Reports, ScoreRecordValidatesAndReadsBackWhole) {
  const reports::Score record = sample_record();
  reports::write_score_json(dir_ / "record.json", record);
  EXPECT_EQ(validate(dir_ / "record.json"), 0);
  const json written = record;
  EXPECT_EQ(reports::score_from_json(written), record);
  EXPECT_TRUE(written["tests"][0]["peak_memory_bytes"].is_null());
  EXPECT_EQ(written["cleanup"], json({{"ok", false}, {"error", *record.cleanup_error}}));
  // Absent parts stay absent: a single grading has no extension key, no warnings, no cleanup.
  reports::Score plain = reports::score_from_json(sample_score());
  const json plain_json = plain;
  for (const char* key : {"warnings", "cleanup"}) EXPECT_FALSE(plain_json.contains(key)) << key;
  EXPECT_FALSE(plain_json["submission"].contains("due_extension_days"));
  EXPECT_FALSE(plain_json["submission"].contains("ignored"));
  // A batch grading without an extension says so with null.
  plain.submission.due_extension_days = std::optional<double>();
  EXPECT_TRUE(json(plain)["submission"]["due_extension_days"].is_null());
  EXPECT_EQ(reports::score_from_json(json(plain)), plain);
}

TEST(Record, ABadScoreNamesThePathToTheKey) {
  auto error_of = [](const json& j) {
    try {
      reports::score_from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json bad_test = sample_score();
  bad_test["tests"][2].erase("status");
  EXPECT_EQ(error_of(bad_test), "tests[2]: missing \"status\"");
  json bad_student = sample_score();
  bad_student["submission"]["student"] = 7;
  EXPECT_EQ(error_of(bad_student), "submission: \"student\" has the wrong type");
  json bad_mode = sample_score();
  bad_mode["grader"]["mode"] = "exam";
  EXPECT_EQ(error_of(bad_mode), "grader: \"mode\" must be grade or check");
  json future = sample_score();
  future["schema_version"] = 3;
  EXPECT_EQ(error_of(future), "\"schema_version\" 3 is not 1 to 2");
  json no_totals = sample_score();
  no_totals.erase("totals");
  EXPECT_EQ(error_of(no_totals), "missing \"totals\"");
  // The format writers read through it: a broken score is an error, not a silent zero.
  EXPECT_THROW(reports::junit_xml(bad_test), std::invalid_argument);
  EXPECT_THROW(reports::gradescope_results(bad_test), std::invalid_argument);
}
