// grader gradebook: percentages, late days with extensions, missing = 0 and flagged,
// ungradable = needs attention, the bucket out of 50, and Canvas's import CSV.
#include <gtest/gtest.h>

#include "grader/course/csv.h"
#include "grader/course/gradebook.h"
#include "grader/engine/engine.h"
#include "reports/gradebook_writer.h"
#include "reports/summary.h"
#include "tests/batch_harness.h"

using namespace batch_test;

namespace {

json score(const std::string& student, double raw, const char* submitted_at,
           const char* status = "graded") {
  return {
      {"status", status},
      {"ungradable_reason",
       std::string(status) == "graded" ? json(nullptr) : json("sandbox could not start")},
      {"submission",
       {{"student", student},
        {"late_days", 0},
        {"submitted_at", submitted_at ? json(submitted_at) : json(nullptr)},
        {"submitted_at_source", submitted_at ? "metadata" : "none"}}},
      {"tests", json::array()},
      {"totals",
       {{"raw", raw}, {"max", 100.0}, {"late_penalty", 0.0}, {"final", raw}, {"percent", raw}}}};
}

// A batch output holding only summary.json, as 'grader batch' writes it.
void make_batch_dir(const fs::path& dir, const std::string& id, const std::vector<json>& scores) {
  json info = {
      {"id", id},
      {"title", "Assignment " + id},
      {"version", "1.0.0"},
      {"hash", "sha256:0"},
      {"points", 100.0},
      {"due",
       {{"date", "2026-10-02T23:59:00Z"}, {"late_percent_per_day", 10.0}, {"late_max_days", 3}}}};
  reports::write_summary(dir, reports::class_summary(info, scores, nullptr));
}

class Gradebook : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("grader-gradebook-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const char* on_time = "2026-10-02T20:00:00Z";
    make_batch_dir(dir_ / "a1", "a1",
                   {score("alice", 90, on_time), score("bob", 80, "2026-10-04T12:00:00Z")});
    make_batch_dir(dir_ / "a2", "a2",
                   {score("alice", 100, on_time), score("bob", 0, on_time, "ungradable")});
    make_batch_dir(dir_ / "a3", "a3",
                   {score("alice", 50, "2026-10-09T00:00:00Z"), score("bob", 70, nullptr)});
    make_batch_dir(dir_ / "a4", "a4", {score("alice", 100, on_time), score("bob", 100, on_time)});
    make_batch_dir(dir_ / "a5", "a5", {score("alice", 100, on_time)});  // bob never submitted
    write(dir_ / "roster.csv",
          "Student,ID,SIS User ID,SIS Login ID,Section\n"
          "\"Lee, Alice\",1001,S1,alice,L01\n"
          "Bob Ray,1002,S2,bob,L02\n"
          "Cat Noir,1003,S3,cat,L01\n");
    write(dir_ / "ext.csv", "student,assignment,days\nbob,a1,2\n");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::vector<fs::path> dirs() const {
    return {dir_ / "a1", dir_ / "a2", dir_ / "a3", dir_ / "a4", dir_ / "a5"};
  }
  fs::path dir_;
};

TEST_F(Gradebook, ComputesPercentsLatenessAndTheBucket) {
  grader::GradebookOptions o;
  o.dirs = dirs();
  o.roster = dir_ / "roster.csv";
  json g = grader::build_gradebook(o);
  ASSERT_EQ(g["assignments"].size(), 5u);
  ASSERT_EQ(g["students"].size(), 3u);
  const json& alice = g["students"][0];
  EXPECT_EQ(alice["name"], "Lee, Alice");
  // a3 seven (started) days late with late_max_days 3: zero, still graded, flagged.
  EXPECT_EQ(alice["assignments"]["a3"]["late_days"], 7);
  EXPECT_EQ(alice["assignments"]["a3"]["percent"], 0.0);
  EXPECT_DOUBLE_EQ(alice["bucket"].get<double>(), 9.0 + 10 + 0 + 10 + 10);

  const json& bob = g["students"][1];
  // a1: 1.5 days late without an extension: 2 days, 20% off.
  EXPECT_EQ(bob["assignments"]["a1"]["late_days"], 2);
  EXPECT_DOUBLE_EQ(bob["assignments"]["a1"]["percent"].get<double>(), 64.0);
  EXPECT_EQ(bob["assignments"]["a2"]["status"], "needs_attention");
  EXPECT_TRUE(bob["assignments"]["a2"]["percent"].is_null());
  EXPECT_EQ(bob["assignments"]["a5"]["status"], "missing");
  EXPECT_EQ(bob["assignments"]["a5"]["percent"], 0.0);
  EXPECT_TRUE(bob["bucket"].is_null());  // not a number until a2 is resolved
  EXPECT_TRUE(bob["needs_attention"]);

  const json& cat = g["students"][2];  // on the roster, never submitted anything
  for (const auto& [id, c] : cat["assignments"].items()) EXPECT_EQ(c["status"], "missing") << id;
  EXPECT_EQ(cat["bucket"], 0.0);
  EXPECT_EQ(cat["flags"].size(), 5u);
}

TEST_F(Gradebook, HonoursPerStudentExtensions) {
  grader::GradebookOptions o;
  o.dirs = dirs();
  o.extensions = dir_ / "ext.csv";
  json g = grader::build_gradebook(o);
  const json* bob = nullptr;
  for (const auto& s : g["students"]) {
    if (s["sis_login_id"] == "bob") bob = &s;
  }
  ASSERT_TRUE(bob);
  EXPECT_EQ((*bob)["assignments"]["a1"]["late_days"], 0);
  EXPECT_EQ((*bob)["assignments"]["a1"]["percent"], 80.0);
  EXPECT_EQ((*bob)["assignments"]["a1"]["extension_days"], 2.0);
}

TEST_F(Gradebook, CommandWritesTheCsvAndCanvasImport) {
  std::vector<std::string> args = {"gradebook"};
  for (const auto& d : dirs()) args.push_back(d.string());
  for (const char* a : {"--roster", "", "--extensions", "", "--out", ""}) args.push_back(a);
  args[args.size() - 5] = (dir_ / "roster.csv").string();
  args[args.size() - 3] = (dir_ / "ext.csv").string();
  args[args.size() - 1] = (dir_ / "out" / "grades.csv").string();
  auto r = run_grader(args);
  EXPECT_EQ(r.status, 3) << r.out << r.err;  // bob's a2 needs attention
  EXPECT_NE(r.out.find("1 need attention"), std::string::npos) << r.out;

  std::string canvas = read(dir_ / "out" / "grades.canvas.csv");
  EXPECT_EQ(canvas.substr(0, canvas.find('\n')),
            "Student,ID,SIS User ID,SIS Login ID,Section,a1: Assignment a1,a2: Assignment a2,a3: "
            "Assignment a3,"
            "a4: Assignment a4,a5: Assignment a5");
  EXPECT_NE(canvas.find("\"Lee, Alice\",1001,S1,alice,L01,90,100,0,100,100\n"), std::string::npos)
      << canvas;
  EXPECT_NE(canvas.find("Bob Ray,1002,S2,bob,L02,80,,70,100,0\n"), std::string::npos) << canvas;

  std::string csv = read(dir_ / "out" / "grades.csv");
  EXPECT_NE(csv.find("bucket_of_50"), std::string::npos);
  EXPECT_NE(csv.find("needs attention"), std::string::npos);
  EXPECT_NE(csv.find("a5: missing"), std::string::npos);
  EXPECT_EQ(read_json(dir_ / "out" / "grades.json")["kind"], "gradebook");
}

// The part of each graded percent that rests on self_reported tests, in the JSON and the CSV.
TEST_F(Gradebook, ShowsSelfReportedPercent) {
  json s = score("dora", 90, "2026-10-02T20:00:00Z");
  s["totals"]["self_reported_points"] = 10.0;
  s["totals"]["self_reported_score"] = 8.0;
  make_batch_dir(dir_ / "b1", "a1", {s});
  grader::GradebookOptions o;
  o.dirs = {dir_ / "b1"};
  json g = grader::build_gradebook(o);
  ASSERT_EQ(g["students"].size(), 1u);
  EXPECT_DOUBLE_EQ(g["students"][0]["assignments"]["a1"]["self_reported_percent"].get<double>(),
                   8.0);
  std::string csv = reports::gradebook_csv(g);
  EXPECT_NE(csv.find("a1_self_reported_percent"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",8,"), std::string::npos) << csv;
}

// Canvas fills its existing columns when the import's headers carry their ids ("Name (ID)"),
// with each cell in the column's own points.
TEST_F(Gradebook, CanvasColumnsComeFromTheExportScaledToTheirPoints) {
  write(dir_ / "export.csv",
        "Student,ID,SIS User ID,SIS Login ID,Section,A1 - Autodiff (111),a2: Assignment a2 (222),"
        "a10 (999),Final Grade\n"
        "    Points Possible,,,,,10,100.0,5,\n"
        "\"Lee, Alice\",1001,S1,alice,L01,,,,\n");
  grader::GradebookOptions o;
  o.dirs = dirs();
  o.roster = dir_ / "roster.csv";
  o.canvas_export = dir_ / "export.csv";
  o.canvas_ids["a3"] = "333";
  json g = grader::build_gradebook(o);
  EXPECT_EQ(g["assignments"][0]["canvas_column"], "A1 - Autodiff (111)");  // not a10's
  EXPECT_EQ(g["assignments"][0]["canvas_points"], 10.0);
  EXPECT_EQ(g["assignments"][2]["canvas_column"], "a3: Assignment a3 (333)");
  EXPECT_TRUE(g["assignments"][3]["canvas_column"].is_null());
  std::string canvas = reports::canvas_csv(g);
  EXPECT_EQ(canvas.substr(0, canvas.find('\n')),
            "Student,ID,SIS User ID,SIS Login ID,Section,A1 - Autodiff (111),a2: Assignment a2 "
            "(222),a3: Assignment a3 (333),a4: Assignment a4,a5: Assignment a5");
  EXPECT_NE(canvas.find("Points Possible,,,,,10,100,100,100,100\n"), std::string::npos) << canvas;
  EXPECT_NE(canvas.find("\"Lee, Alice\",1001,S1,alice,L01,9,100,0,100,100\n"), std::string::npos)
      << canvas;
  ASSERT_EQ(g["warnings"].size(), 1u);  // a4 and a5 have no Canvas id
  EXPECT_NE(g["warnings"][0].get<std::string>().find("creates new assignments"), std::string::npos);
}

TEST_F(Gradebook, AnAmbiguousOrBadCanvasExportIsRefusedWithTheFile) {
  write(dir_ / "export.csv", "Student,ID,a1 part 1 (1),A1 part 2 (2)\n");
  grader::GradebookOptions o;
  o.dirs = dirs();
  o.canvas_export = dir_ / "export.csv";
  try {
    grader::build_gradebook(o);
    ADD_FAILURE() << "accepted two a1 columns";
  } catch (const grader::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("export.csv:1: columns"), std::string::npos) << e.what();
  }
  write(dir_ / "export.csv", "Student,ID,a1 (1)\nPoints Possible,,ten\n");
  EXPECT_THROW(grader::build_gradebook(o), grader::InputError);
  o.canvas_export.reset();
  o.canvas_ids["a9"] = "9";
  EXPECT_THROW(grader::build_gradebook(o), grader::InputError);
}

TEST_F(Gradebook, APartialBucketAndARejectedSubmissionAreFlagged) {
  json rejected = score("erin", 0, "2026-10-02T20:00:00Z");
  rejected["submission"]["rejected"] = "missing required file autodiff.py";
  make_batch_dir(dir_ / "b1", "a1", {rejected});
  make_batch_dir(dir_ / "b2", "a2", {score("erin", 100, "2026-10-02T20:00:00Z")});
  grader::GradebookOptions o;
  o.dirs = {dir_ / "b1", dir_ / "b2"};
  json g = grader::build_gradebook(o);
  ASSERT_GE(g["warnings"].size(), 1u);
  EXPECT_NE(g["warnings"][0].get<std::string>().find("2 of the 5 assignments (a1, a2)"),
            std::string::npos)
      << g["warnings"];
  const std::string flags = g["students"][0]["flags"].dump();
  EXPECT_NE(flags.find("a1: submission rejected (missing required file autodiff.py)"),
            std::string::npos)
      << flags;
}

TEST(GradebookUnit, ReadsQuotedCsv) {
  fs::path p = fs::temp_directory_path() / ("grader-csv-" + std::to_string(::getpid()) + ".csv");
  write(p, "\xEF\xBB\xBFname,note\r\n\"Lee, A\",\"said \"\"hi\"\"\nthen left\"\r\nB,\n");
  auto rows = grader::read_csv(p);
  fs::remove(p);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "name");
  EXPECT_EQ(rows[1][0], "Lee, A");
  EXPECT_EQ(rows[1][1], "said \"hi\"\nthen left");
  EXPECT_EQ(rows[2].size(), 2u);
}

}  // namespace
