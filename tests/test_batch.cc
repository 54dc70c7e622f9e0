// grader batch and merge: the three input formats, resume after kill -9, sharding and merge,
// ungradable submissions, and the HTML summary rendered in headless Chromium.
#include <gtest/gtest.h>

#include "grader/course/batch.h"
#include "reports/summary.h"
#include "tests/batch_harness.h"

using namespace batch_test;

namespace {

class Batch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("grader-batch-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

std::map<std::string, json> students_of(const fs::path& out) {
  std::map<std::string, json> m;
  // Keep the parsed document alive: a range-for over a member of a temporary dangles.
  const json summary = read_json(out / "summary.json");
  for (const auto& s : summary["students"]) m[s["student"]] = s;
  return m;
}

// ---------------------------------------------------------------------------------------
// Discovery, shards, memory (no grading)

TEST_F(Batch, DiscoversAPlainFolderWithMetaTimesAndArchives) {
  write(dir_ / "in" / "alice" / "sol.py", kCorrect);
  write(dir_ / "in" / "alice" / "meta.toml", "submitted_at = \"2026-10-02T20:00:00-04:00\"\n");
  write(dir_ / "src" / "sol.py", kCorrect);
  make_tar_gz(dir_ / "in" / "bob.tar.gz", dir_ / "src");
  make_zip(dir_ / "in" / "carol.zip", dir_ / "src");
  write(dir_ / "in" / "notes.txt", "not a submission");
  auto d = grader::batch::discover(dir_ / "in", dir_ / "unpack");
  EXPECT_EQ(d.format, "folder");
  ASSERT_EQ(d.entries.size(), 3u);
  EXPECT_EQ(d.entries[0].student, "alice");
  EXPECT_EQ(d.entries[0].submitted_at.value_or(""), "2026-10-03T00:00:00Z");
  EXPECT_EQ(d.entries[0].submitted_at_source, "metadata");
  EXPECT_EQ(d.entries[1].student, "bob");
  EXPECT_EQ(d.entries[1].submitted_at_source, "none");
  EXPECT_EQ(d.entries[2].student, "carol");
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("notes.txt"), std::string::npos);
}

void make_gradescope_export(const fs::path& root) {
  write(root / "submission_metadata.yml",
        "submission_1001:\n"
        "  :submitters:\n"
        "  - :name: Alice A\n"
        "    :sid: alice\n"
        "    :email: alice@example.edu\n"
        "  :created_at: 2026-10-02 20:00:00.123456000 -04:00\n"
        "  :score: !ruby/object:BigDecimal 18:0.0\n"
        "submission_1002:\n"
        "  :submitters:\n"
        "  - :name: Bob B\n"
        "    :sid: bob\n"
        "  - :name: Dan D\n"
        "    :sid: ''\n"
        "    :email: dan@example.edu\n"
        "  :created_at: 2026-10-03 10:00:00 UTC\n"
        "submission_1003:\n"
        "  :submitters:\n"
        "  - :name: Carol C\n"
        "    :sid: carol\n"
        "  :created_at: 2026-10-01 09:00:00 +00:00\n");
  write(root / "submission_1001" / "sol.py", kCorrect);
  write(root / "submission_1002" / "sol.py", kAddWrong);
  write(root / "submission_1003" / "sol.py", kMulLoops);
}

TEST_F(Batch, DiscoversAGradescopeExportFolderAndZip) {
  make_gradescope_export(dir_ / "export" / "assignment_42_export");
  make_zip(dir_ / "export.zip", dir_ / "export");
  for (const fs::path& in : {dir_ / "export", dir_ / "export.zip"}) {
    auto d = grader::batch::discover(in, dir_ / "unpack");
    EXPECT_EQ(d.format, "gradescope") << in;
    ASSERT_EQ(d.entries.size(), 4u) << in;  // the group submission counts for both members
    std::map<std::string, grader::batch::Entry> by;
    for (const auto& e : d.entries) by[e.student] = e;
    ASSERT_TRUE(by.count("dan@example.edu"));
    EXPECT_EQ(by["alice"].submitted_at.value_or(""), "2026-10-03T00:00:00Z");
    EXPECT_EQ(by["alice"].submitted_at_source, "metadata");
    EXPECT_EQ(by["alice"].name, "Alice A");
    EXPECT_EQ(by["bob"].submitted_at.value_or(""), "2026-10-03T10:00:00Z");
    EXPECT_EQ(by["bob"].source.filename(), "submission_1002");
    EXPECT_EQ(by["dan@example.edu"].source.filename(), "submission_1002");
  }
}

TEST_F(Batch, RejectsMalformedGradescopeMetadataByLine) {
  write(dir_ / "in" / "submission_metadata.yml", "submission_1:\n  :submitters: [\n");
  try {
    grader::batch::discover(dir_ / "in", dir_ / "unpack");
    FAIL() << "no error";
  } catch (const grader::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("submission_metadata.yml:"), std::string::npos)
        << e.what();
  }
}

TEST_F(Batch, DiscoversACanvasDownload) {
  write(dir_ / "in" / "alice_111_5001_sol.py", kCorrect);
  write(dir_ / "in" / "alice_111_5001_helper.py", "X = 1\n");
  write(dir_ / "in" / "bob_LATE_222_5002_sol-1.py", kAddWrong);
  write(dir_ / "src" / "sol.py", kCorrect);
  make_zip(dir_ / "in" / "carol_333_5003_work.zip", dir_ / "src");
  auto d = grader::batch::discover(dir_ / "in", dir_ / "unpack");
  EXPECT_EQ(d.format, "canvas");
  ASSERT_EQ(d.entries.size(), 3u);
  EXPECT_EQ(d.entries[0].student, "alice");
  ASSERT_EQ(d.entries[0].files.size(), 2u);
  EXPECT_EQ(d.entries[1].student, "bob");
  ASSERT_EQ(d.entries[1].files.size(), 1u);
  EXPECT_EQ(d.entries[1].files[0].second, "sol.py");  // Canvas's "-1" resubmission suffix dropped
  EXPECT_EQ(d.entries[2].student, "carol");
  EXPECT_TRUE(d.entries[2].files.empty());
  EXPECT_EQ(d.entries[2].source.filename(), "carol_333_5003_work.zip");
  for (const auto& e : d.entries) EXPECT_EQ(e.submitted_at_source, "none");
}

TEST(BatchUnit, ShardsPartitionTheClassDeterministically) {
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("student" + std::to_string(i));
  const int n = 3;
  std::map<int, int> sizes;
  for (const auto& id : ids) {
    int owners = 0;
    for (int k = 1; k <= n; ++k) {
      if (grader::batch::in_shard(id, {k, n})) {
        ++owners;
        ++sizes[k];
      }
    }
    EXPECT_EQ(owners, 1) << id;
  }
  for (int k = 1; k <= n; ++k) EXPECT_GT(sizes[k], 40) << "shard " << k << " is lopsided";
  EXPECT_FALSE(grader::batch::parse_shard("0/3"));
  EXPECT_FALSE(grader::batch::parse_shard("4/3"));
  EXPECT_FALSE(grader::batch::parse_shard("1-3"));
  EXPECT_EQ(grader::batch::parse_shard("2/3")->index, 2);
}

TEST(BatchUnit, JobsNeverPromiseMoreMemoryThanAvailable) {
  const uint64_t gib = 1ull << 30;
  EXPECT_EQ(grader::batch::fit_jobs_to_memory(8, 2 * gib, 5 * gib), 2);
  EXPECT_EQ(grader::batch::fit_jobs_to_memory(2, 1 * gib, 64 * gib), 2);
  EXPECT_EQ(grader::batch::fit_jobs_to_memory(4, 8 * gib, 3 * gib), 1);  // always at least one
  EXPECT_GT(grader::batch::mem_available_bytes(), 0u);
}

TEST(BatchUnit, SafeStudentIds) {
  EXPECT_EQ(grader::batch::safe_student_id("../../etc"), "etc");
  EXPECT_EQ(grader::batch::safe_student_id("Ann Lee"), "Ann_Lee");
  EXPECT_EQ(grader::batch::safe_student_id("=cmd|x"), "cmd_x");
  EXPECT_EQ(grader::batch::safe_student_id("..."), "");
}

// ---------------------------------------------------------------------------------------
// End to end with the real engine and sandbox

void make_folder_class(const fs::path& in) {
  write(in / "alice" / "sol.py", kCorrect);
  write(in / "alice" / "meta.toml", "submitted_at = \"2026-10-02T20:00:00Z\"\n");
  write(in / "bob" / "sol.py", kAddWrong);
  write(in / "bob" / "meta.toml", "submitted_at = \"2026-10-03T10:00:00Z\"\n");  // one day late
  write(in / "carol" / "sol.py", kMulLoops);
  write(in.parent_path() / "dave-src" / "sol.py", kCorrect);
  make_tar_gz(in / "dave.tar.gz", in.parent_path() / "dave-src");
  write(in / "erin" / "other.py", "print('no sol.py here')\n");
}

// The same students graded from each of the three formats give the same scores; each
// format reports where its submission times came from.
TEST_F(Batch, GradesAllThreeInputFormats) {
  fs::path folder = dir_ / "folder";
  make_folder_class(folder);
  fs::path gradescope = dir_ / "gs";
  make_gradescope_export(gradescope);
  make_zip(dir_ / "gs.zip", gradescope);
  fs::path canvas = dir_ / "canvas";
  write(canvas / "alice_111_5001_sol.py", kCorrect);
  write(canvas / "bob_LATE_222_5002_sol.py", kAddWrong);
  write(canvas / "carol_333_5003_sol-2.py", kMulLoops);

  auto r = run_grader(
      {"batch", kTiny.string(), folder.string(), "--out", (dir_ / "o-folder").string(), "-j", "2"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto f = students_of(dir_ / "o-folder");
  ASSERT_EQ(f.size(), 5u) << r.out << r.err;
  EXPECT_EQ(f["alice"]["percent"], 100.0);
  EXPECT_EQ(f["alice"]["submitted_at_source"], "metadata");
  EXPECT_EQ(f["bob"]["tests"]["add"]["status"], "failed");
  EXPECT_EQ(f["bob"]["late_days"], 1);
  EXPECT_EQ(f["carol"]["tests"]["mul"]["verdict"], "time_limit");
  EXPECT_EQ(f["dave"]["percent"], 100.0);
  EXPECT_EQ(f["dave"]["submitted_at_source"], "none");
  EXPECT_EQ(f["erin"]["status"], "graded");  // a broken submission is a zero with a reason
  EXPECT_EQ(f["erin"]["percent"], 0.0);
  // ...and the batch's closing lines name it with the reason.
  EXPECT_NE(r.out.find("rejected (1, graded 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  erin: "), std::string::npos) << r.out;
  // meta.toml is the batch's, not part of the graded submission.
  EXPECT_TRUE(fs::exists(dir_ / "o-folder" / "students" / "alice" / "submission" / "sol.py"));
  EXPECT_FALSE(fs::exists(dir_ / "o-folder" / "students" / "alice" / "submission" / "meta.toml"));
  EXPECT_NE(r.out.find("summary: "), std::string::npos) << r.out;

  r = run_grader({"batch", kTiny.string(), (dir_ / "gs.zip").string(), "--out",
                  (dir_ / "o-gs").string(), "-j", "2"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto g = students_of(dir_ / "o-gs");
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g["alice"]["submitted_at"], "2026-10-03T00:00:00Z");
  EXPECT_EQ(g["alice"]["submitted_at_source"], "metadata");
  EXPECT_EQ(g["bob"]["raw"], f["bob"]["raw"]);
  EXPECT_EQ(g["dan@example.edu"]["raw"], f["bob"]["raw"]);
  EXPECT_EQ(g["carol"]["tests"]["mul"]["verdict"], "time_limit");

  r = run_grader(
      {"batch", kTiny.string(), canvas.string(), "--out", (dir_ / "o-canvas").string(), "-j", "2"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  auto c = students_of(dir_ / "o-canvas");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c["alice"]["percent"], 100.0);
  EXPECT_EQ(c["alice"]["submitted_at_source"], "none");
  EXPECT_EQ(c["bob"]["raw"], f["bob"]["raw"]);
  EXPECT_EQ(c["carol"]["raw"], f["carol"]["raw"]);
  for (const auto& [id, s] : c) EXPECT_EQ(s["content_hash"], f[id]["content_hash"]) << id;
}

// kill -9 at several moments, rerun: the outputs equal an uninterrupted run's, and no
// partial file is ever visible.
TEST_F(Batch, KillNineAndResumeGivesTheSameOutputs) {
  fs::path in = dir_ / "in";
  make_class(in, 10);
  auto ref = run_grader(
      {"batch", kTiny.string(), in.string(), "--out", (dir_ / "ref").string(), "-j", "2", "-q"});
  ASSERT_EQ(ref.status, 0) << ref.err;

  fs::path out = dir_ / "crash";
  for (int delay_ms : {150, 700, 1500}) {
    std::vector<std::string> args = {"batch",      kTiny.string(), in.string(), "--out",
                                     out.string(), "-j",           "2",         "-q"};
    args.insert(args.begin(), kGrader.string());
    std::string error;
    const std::optional<pid_t> pid = common::spawn({args, "/dev/null"}, error);
    ASSERT_TRUE(pid) << error;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    // Whatever is visible outside .tmp is complete.
    for (const auto& f : files_under(out)) {
      if (f.rfind(".tmp/", 0) == 0) continue;
      EXPECT_EQ(f.find(".tmp"), std::string::npos) << "temp file left in view: " << f;
      if (fs::path(f).extension() == ".json") {
        EXPECT_NO_THROW(read_json(out / f)) << f;
      }
    }
  }
  auto rerun =
      run_grader({"batch", kTiny.string(), in.string(), "--out", out.string(), "-j", "2", "-q"});
  ASSERT_EQ(rerun.status, 0) << rerun.err;
  EXPECT_FALSE(fs::exists(out / ".tmp"));
  EXPECT_EQ(compare_outputs(dir_ / "ref", out), "");
  EXPECT_EQ(read(dir_ / "ref" / "summary.csv"), read(out / "summary.csv"));

  // A rerun over complete results grades nothing and changes no byte.
  std::map<std::string, std::string> before;
  for (const auto& f : files_under(out)) before[f] = read(out / f);
  auto again = run_grader({"batch", kTiny.string(), in.string(), "--out", out.string(), "-j", "2"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.out.find("10 graded (10 unchanged and skipped)"), std::string::npos) << again.out;
  for (const auto& f : files_under(out)) EXPECT_EQ(before[f], read(out / f)) << f;

  // A changed submission is regraded, and only that one; --force regrades all.
  write(in / "s00" / "sol.py", kAddWrong);
  auto changed =
      run_grader({"batch", kTiny.string(), in.string(), "--out", out.string(), "-j", "2"});
  ASSERT_EQ(changed.status, 0) << changed.err;
  EXPECT_NE(changed.out.find("(9 unchanged and skipped)"), std::string::npos) << changed.out;
  EXPECT_EQ(students_of(out)["s00"]["tests"]["add"]["status"], "failed");
  auto forced = run_grader(
      {"batch", kTiny.string(), in.string(), "--out", out.string(), "-j", "2", "--force"});
  EXPECT_NE(forced.out.find("(0 unchanged and skipped)"), std::string::npos) << forced.out;
}

// An infrastructure failure marks the submission ungradable, the batch goes on, lists them
// and exits 3; a rerun retries them.
TEST_F(Batch, UngradableSubmissionsAreListedAndRetried) {
  fs::path in = dir_ / "in";
  make_class(in, 3);
  auto broken =
      run_grader({"batch", kTiny.string(), in.string(), "--out", (dir_ / "o").string(), "-j", "2"},
                 {{"GRADER_SANDBOX", "/bin/false"}});
  EXPECT_EQ(broken.status, 3) << broken.out << broken.err;
  EXPECT_NE(broken.out.find("ungradable"), std::string::npos) << broken.out;
  auto s = read_json(dir_ / "o" / "summary.json");
  EXPECT_EQ(s["counts"]["ungradable"], 3);
  EXPECT_EQ(s["ungradable"].size(), 3u);
  auto fixed =
      run_grader({"batch", kTiny.string(), in.string(), "--out", (dir_ / "o").string(), "-j", "2"});
  EXPECT_EQ(fixed.status, 0) << fixed.out << fixed.err;
  EXPECT_EQ(read_json(dir_ / "o" / "summary.json")["counts"]["ungradable"], 0);
}

// On a terminal one progress line is redrawn in place; otherwise each submission gets a plain
// log line. util-linux's `script` gives the grader a real pseudo-terminal.
TEST_F(Batch, ProgressIsOneLineOnATerminalAndPlainLinesOtherwise) {
  fs::path in = dir_ / "in";
  make_class(in, 3);
  std::string command = kGrader.string() + " batch " + kTiny.string() + " " + in.string() +
                        " --out " + (dir_ / "tty").string() + " -j 2";
  auto tty = run_grader({"-qec", command, "/dev/null"}, {}, "/usr/bin/script");
  ASSERT_EQ(tty.status, 0) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("\r[3/3] "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("ungradable 0"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("/min  ETA "), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find("] s00: "), std::string::npos) << "per-submission lines on a terminal";

  auto plain = run_grader(
      {"batch", kTiny.string(), in.string(), "--out", (dir_ / "plain").string(), "-j", "2"});
  ASSERT_EQ(plain.status, 0) << plain.out << plain.err;
  EXPECT_EQ(plain.err.find('\r'), std::string::npos) << plain.err;
  for (const char* student : {"s00", "s01", "s02"})
    EXPECT_NE(plain.err.find(std::string("] ") + student + ": "), std::string::npos) << plain.err;
}

// Shards graded apart and merged equal one single-machine run.
TEST_F(Batch, ShardsMergeIntoTheSingleMachineResult) {
  fs::path in = dir_ / "in";
  make_class(in, 7);
  write(in / "carol" / "sol.py", kMulLoops);
  auto single = run_grader(
      {"batch", kTiny.string(), in.string(), "--out", (dir_ / "single").string(), "-j", "2", "-q"});
  ASSERT_EQ(single.status, 0) << single.err;
  std::vector<std::string> merge_args = {"merge"};
  size_t total = 0;
  for (int k = 1; k <= 3; ++k) {
    fs::path shard = dir_ / ("shard" + std::to_string(k));
    auto r = run_grader({"batch", kTiny.string(), in.string(), "--out", shard.string(), "--shard",
                         std::to_string(k) + "/3", "-j", "2", "-q"});
    ASSERT_EQ(r.status, 0) << r.err;
    auto s = read_json(shard / "summary.json");
    EXPECT_EQ(s["shard"]["index"], k);
    total += s["students"].size();
    merge_args.push_back(shard.string());
  }
  EXPECT_EQ(total, 8u);
  // A missing shard is refused.
  auto partial = run_grader({"merge", (dir_ / "shard1").string(), (dir_ / "shard2").string(),
                             "--out", (dir_ / "bad").string()});
  EXPECT_EQ(partial.status, 2);
  EXPECT_NE(partial.err.find("shard 3/3 is missing"), std::string::npos) << partial.err;

  merge_args.insert(merge_args.end(), {"--out", (dir_ / "merged").string()});
  auto merged = run_grader(merge_args);
  ASSERT_EQ(merged.status, 0) << merged.out << merged.err;
  EXPECT_EQ(compare_outputs(dir_ / "single", dir_ / "merged"), "");
  EXPECT_EQ(read(dir_ / "single" / "summary.csv"), read(dir_ / "merged" / "summary.csv"));
}

// ---------------------------------------------------------------------------------------
// The HTML summary in headless Chromium

Ran render(const fs::path& html, const fs::path& out) {
  return run_grader({html.string(), out.string()}, {},
                    fs::path(SOURCE_DIR) / "tests" / "html" / "render_check.sh");
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(Batch, SummaryHtmlRendersInChromiumWithItsFigures) {
  fs::path in = dir_ / "in";
  make_folder_class(in);
  auto r = run_grader(
      {"batch", kTiny.string(), in.string(), "--out", (dir_ / "o").string(), "-j", "2", "-q"});
  ASSERT_EQ(r.status, 0) << r.err;

  auto page = render(dir_ / "o" / "summary.html", dir_ / "render");
  ASSERT_EQ(page.status, 0) << "console messages or a Chromium failure:\n" << page.err;
  std::string dom = read(dir_ / "render" / "dom.html");
  EXPECT_NE(dom.find("data-ready=\"1\""), std::string::npos) << "the page's script did not run";
  for (const char* figure :
       {"fig-histogram", "fig-pass-rate", "fig-cpu", "fig-wall", "fig-memory"}) {
    EXPECT_NE(dom.find(std::string("id=\"") + figure + "\""), std::string::npos) << figure;
  }
  // 10 histogram bins + one bar per test in each of the four per-test figures.
  EXPECT_EQ(count(dom, "class=\"bar\""), 10u + 4 * 3);
  EXPECT_NE(dom.find("href=\"students/alice/score.json\""), std::string::npos);
  EXPECT_NE(dom.find("href=\"students/alice/submission/\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"limit-hits\""), std::string::npos);  // carol's mul hit the CPU limit
  // The page measured its own figures in Chromium's layout (getBBox of every label against its
  // figure): no label runs past its figure ("median 0.97 s · max 7.42 s" was cut), and the page
  // fits the 1400 px window.
  EXPECT_NE(dom.find("data-clipped-labels=\"0\""), std::string::npos)
      << dom.substr(0, 400) << "\nclipped: "
      << (dom.find("data-clipped=\"1\"") != std::string::npos
              ? dom.substr(dom.find("data-clipped=\"1\"") - 80, 240)
              : "");
  const size_t width_at = dom.find("data-page-width=\"");
  ASSERT_NE(width_at, std::string::npos);
  EXPECT_LE(std::stoi(dom.substr(width_at + 17)), 1400);
  // Mean points beside each pass rate (imports is worth 2 points, add and mul 4).
  EXPECT_NE(dom.find(" of 2</text>"), std::string::npos);
  EXPECT_NE(dom.find("passed · mean "), std::string::npos);
  // erin's upload lacks sol.py: marked rejected with the reason, in a table of its own.
  EXPECT_NE(dom.find("id=\"rejected\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"card-rejected\""), std::string::npos);
  EXPECT_NE(dom.find(">rejected</td>"), std::string::npos);
  EXPECT_EQ(dom.find("http://"), std::string::npos);
  EXPECT_EQ(dom.find("https://"), std::string::npos);

  // The check itself catches a script error and a blocked external resource.
  write(dir_ / "bad.html",
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'\">"
        "</head><body><img "
        "src=\"https://example.com/x.png\"><script>missing()</script></body></html>");
  auto bad = render(dir_ / "bad.html", dir_ / "render-bad");
  EXPECT_EQ(bad.status, 1) << bad.err;
}

TEST(SummaryUnit, EscapesEverythingAStudentCanInfluence) {
  json info = {{"id", "a1"},         {"title", "<b>T</b>"}, {"version", "1"},
               {"hash", "sha256:x"}, {"points", 10},        {"due", nullptr}};
  json score = {
      {"status", "ungradable"},
      {"ungradable_reason", "<script>alert(1)</script>"},
      {"submission", {{"student", "x"}, {"late_days", 0}}},
      {"tests", json::array()},
      {"totals", {{"raw", 0}, {"max", 10}, {"late_penalty", 0}, {"final", 0}, {"percent", 0}}}};
  json s = reports::class_summary(info, {score}, nullptr);
  std::string html = reports::summary_html(s);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>T</b>"), std::string::npos);
  EXPECT_EQ(reports::csv_row({"=1+1", "a,b", "q\"q", "-3"}), "'=1+1,\"a,b\",\"q\"\"q\",-3\n");
}

}  // namespace
