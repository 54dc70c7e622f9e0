// What a student and a CI job do with `grader check` and `grader grade`: run one public test or
// some pytest cases, gate on a score, read JUnit or JSON; and what pytest's output shows them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "grader/engine/test_runs.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Ran {
  int status = -1;
  std::string out;  // stdout only
};

Ran grader(const std::string& args) {
  Ran r;
  FILE* p = popen((std::string(BUILD_DIR) + "/bin/grader " + args + " 2>/dev/null").c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const fs::path kMini = fs::path(SOURCE_DIR) / "tests/fixtures/mini";

// The mini solution with add() wrong: the two add cases of public_basic fail, the two mul
// cases pass (10 of its 20 points), and the 5-point import test passes.
class CheckOptions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/grader-check-options-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ifstream in(kMini / "solution/mathops.py");
    std::stringstream text;
    text << in.rdbuf();
    std::string code = text.str();
    const std::string add = "return a + b";
    code.replace(code.find(add), add.size(), "return a - b");
    fs::create_directories(dir_ / "wrong_add");
    std::ofstream(dir_ / "wrong_add/mathops.py") << code;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string wrong() { return kMini.string() + " " + (dir_ / "wrong_add").string(); }
  static inline fs::path dir_;
};

TEST_F(CheckOptions, MinScoreGatesOnThePublicPoints) {
  EXPECT_EQ(grader("check " + wrong()).status, 1);  // some public test failed
  EXPECT_EQ(grader("check " + wrong() + " --min-score 15").status, 0);
  EXPECT_EQ(grader("check " + wrong() + " --min-score 15.5").status, 1);
}

TEST_F(CheckOptions, JunitOfACheckNamesTheFailedCasesTest) {
  const fs::path xml = dir_ / "check.xml";
  grader("check " + wrong() + " --junit " + xml.string());
  std::ifstream in(xml);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<testsuite"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("public_basic"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("<failure"), std::string::npos) << text.str();
}

TEST_F(CheckOptions, OneTestAndSomeCasesCanBeRun) {
  Ran one = grader("check " + wrong() + " --test imports --json");
  json score = json::parse(one.out);
  for (const json& t : score["tests"])
    EXPECT_EQ(t["status"] == "not_run", t["id"] != "imports") << t.dump();
  EXPECT_EQ(score["totals"]["max"], 5.0);
  EXPECT_EQ(one.status, 0);

  Ran mul = grader("check " + wrong() + " --test public_basic -k mul --json");
  score = json::parse(mul.out);
  for (const json& t : score["tests"]) {
    if (t["id"] != "public_basic") continue;
    EXPECT_EQ(t["cases"]["total"], 2) << t.dump();  // not the manifest's 4: a selection
    EXPECT_EQ(t["cases"]["passed"], 2) << t.dump();
  }
  EXPECT_EQ(mul.status, 0);

  Ran bad = grader("check " + wrong() + " --test hidden_dot");
  EXPECT_EQ(bad.status, 2);  // a hidden test cannot be chosen, and nothing is graded
}

TEST_F(CheckOptions, TheTableShowsTheStudentsOwnPathsAndWholeNames) {
  Ran r = grader("check " + wrong());
  EXPECT_NE(r.out.find("tests/test_basic.py"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("../grader"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("/grader/handout"), std::string::npos) << r.out;
}

TEST_F(CheckOptions, GradeJsonPrintsTheScoreObject) {
  Ran r = grader("grade " + wrong() + " --out " + (dir_ / "graded").string() + " --json");
  EXPECT_EQ(r.status, 0);
  json score = json::parse(r.out);
  EXPECT_EQ(score["status"], "graded");
  EXPECT_TRUE(fs::exists(dir_ / "graded/score.json"));
}

// A ported pytest suite reads data files beside its tests: `data` copies them (a folder
// whole) without handing them to pytest, so a data folder's own test_*.py is not collected.
TEST(ManifestData, DataFilesAreCopiedButNotGivenToPytest) {
  char pattern[] = "/tmp/grader-data-XXXXXX";
  const fs::path dir = mkdtemp(pattern);
  const fs::path a = dir / "mini";
  fs::copy(kMini, a, fs::copy_options::recursive);
  std::ifstream in(a / "assignment.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string manifest = text.str();
  const std::string files = "files = [\"handout/tests/test_basic.py\"]\ncases = 4\n";
  ASSERT_NE(manifest.find(files), std::string::npos);
  manifest.replace(manifest.find(files), files.size(),
                   "files = [\"handout/tests/test_basic.py\"]\ndata = [\"handout/tests/data\"]\n"
                   "cases = 5\n");
  std::ofstream(a / "assignment.toml") << manifest;
  fs::create_directories(a / "handout/tests/data/more");
  std::ofstream(a / "handout/tests/data/more/cases.json") << "[[2, 3, 5], [1, 1, 2]]\n";
  std::ofstream(a / "handout/tests/data/test_decoy.py") << "def test_decoy():\n    assert False\n";
  std::ofstream(a / "handout/tests/test_basic.py", std::ios::app)
      << "\n\ndef test_add_from_data():\n"
         "    import json, pathlib\n"
         "    rows = json.loads((pathlib.Path(__file__).parent / "
         "'data/more/cases.json').read_text())\n"
         "    assert all(mathops.add(x, y) == z for x, y, z in rows)\n";
  Ran r = grader("check " + a.string() + " " + (kMini / "solution").string() +
                 " --test public_basic --json");
  json score = json::parse(r.out);
  for (const json& t : score["tests"]) {
    if (t["id"] != "public_basic") continue;
    EXPECT_EQ(t["cases"]["passed"], 5) << t.dump(2);  // the data was there; the decoy not run
    EXPECT_EQ(t["cases"]["total"], 5) << t.dump(2);
  }
  EXPECT_EQ(r.status, 0);

  // A link among the data is refused with the file and the key.
  fs::create_symlink("/etc/passwd", a / "handout/tests/data/passwd");
  Ran bad = grader("check " + a.string() + " " + (kMini / "solution").string());
  EXPECT_EQ(bad.status, 2);
  fs::remove_all(dir);
}

TEST(CaseCountNote, SaysBothNumbersAndWhatWasDone) {
  EXPECT_EQ(grader::case_count_note(std::nullopt, 5), "");
  EXPECT_EQ(grader::case_count_note(5, 5), "");
  EXPECT_NE(grader::case_count_note(6, 5).find("pytest reported 5 cases, the manifest says 6"),
            std::string::npos);
  EXPECT_NE(grader::case_count_note(6, 5).find("1 missing count as failed"), std::string::npos);
  EXPECT_NE(grader::case_count_note(4, 5).find("scored out of 5"), std::string::npos);
}

TEST(StudentViewPaths, TestFilesAreNamedAsTheStudentHasThem) {
  struct Row {
    std::string in, out;
  } rows[] = {
      {"../grader/handout/tests/test_x.py:12: in test_a", "tests/test_x.py:12: in test_a"},
      {"FAILED ../grader/handout/tests/test_x.py::test_a", "FAILED tests/test_x.py::test_a"},
      {"File \"/grader/handout/tests/test_x.py\", line 3", "File \"tests/test_x.py\", line 3"},
      {"../grader/hidden/t.py", "hidden/t.py"},
      {"/srv/x/grader/handout/a.py", "/srv/x/grader/handout/a.py"},  // not the box's path
      {"no paths here", "no paths here"},
  };
  for (const Row& r : rows) EXPECT_EQ(grader::student_view_paths(r.in), r.out) << r.in;
}

}  // namespace
