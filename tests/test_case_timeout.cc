// One endless loop in one function costs the pytest cases that call it, not the whole test,
// and the student is shown where the code was when it was stopped. Loops in more cases than
// the run's CPU limit holds stop pytest early, with the results so far kept.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

class CaseTimeout : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists("/usr/lib/python3/dist-packages/pytest_timeout.py"))
      GTEST_FAIL() << "python3-pytest-timeout is not installed (scripts/setup installs it)";
    char pattern[] = "/tmp/grader-loop-XXXXXX";
    dir_ = mkdtemp(pattern);
    fs::copy(mini_, dir_ / "mini", fs::copy_options::recursive);
    std::string code = read_text(mini_ / "solution/mathops.py");
    replace_once(code, "def add(a, b):\n    return a + b\n",
                 "def add(a, b):\n    while True:\n        a = a + 0\n");
    fs::create_directories(dir_ / "sub");
    std::ofstream(dir_ / "sub/mathops.py") << code;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Grades the looping submission against the (edited) copy of mini; the public test's entry.
  nlohmann::json public_entry() {
    const std::string cmd = std::string(BUILD_DIR) + "/bin/grader grade " +
                            (dir_ / "mini").string() + " " + (dir_ / "sub").string() + " --out " +
                            (dir_ / "out").string() + " >/dev/null 2>&1";
    EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
    std::ifstream score_file(dir_ / "out/score.json");
    nlohmann::json score = nlohmann::json::parse(score_file);
    for (const auto& t : score["tests"])
      if (t["id"] == "public_basic") return t;
    ADD_FAILURE() << "no public_basic entry";
    return {};
  }

  const fs::path mini_ = fs::path(SOURCE_DIR) / "tests/fixtures/mini";
  fs::path dir_;
};

TEST_F(CaseTimeout, ALoopInOneFunctionLosesOnlyItsCases) {
  nlohmann::json pub = public_entry();
  EXPECT_EQ(pub["cases"]["passed"], 2) << pub.dump(2);  // the two mul cases
  EXPECT_EQ(pub["cases"]["total"], 4);
  const std::string output = pub["output"];
  EXPECT_NE(output.find("its own time limit"), std::string::npos) << output;
  EXPECT_NE(output.find("in add\n    while True:"), std::string::npos)
      << "no traceback of the loop: " << output;
  EXPECT_EQ(output.find("INTERNALERROR"), std::string::npos) << output;
}

// Replaces the public test file and its manifest entry's `cases = 4` line in the copy.
void rewrite_public_test(const fs::path& mini, const std::string& tests,
                         const std::string& cases_line) {
  std::ofstream(mini / "handout/tests/test_basic.py") << tests;
  std::string manifest = read_text(mini / "assignment.toml");
  replace_once(manifest, "files = [\"handout/tests/test_basic.py\"]\ncases = 4\n",
               "files = [\"handout/tests/test_basic.py\"]\n" + cases_line);
  std::ofstream(mini / "assignment.toml") << manifest;
}

// Ten looping cases of 2.5 s (wall) each after one passing case, in a run of 10 s CPU and 20 s
// wall: without the budget the run's CPU limit (on an idle machine) or its wall limit (on a
// loaded one, where a loop's 2.5 s of wall time is less CPU) kills pytest, and the kill loses
// the passing case too. The manifest gives no `cases`: the cases not run must still count.
TEST_F(CaseTimeout, LoopsPastTheRunsLimitKeepTheCasesThatRan) {
  std::string tests = "import mathops\n\n\ndef test_mul():\n    assert mathops.mul(4, 5) == 20\n";
  for (int i = 0; i < 10; ++i)
    tests += "\n\ndef test_add_" + std::to_string(i) + "():\n    assert mathops.add(" +
             std::to_string(i) + ", 1) == " + std::to_string(i + 1) + "\n";
  rewrite_public_test(dir_ / "mini", tests, "");

  nlohmann::json pub = public_entry();
  EXPECT_EQ(pub["cases"]["passed"], 1) << pub.dump(2);
  EXPECT_EQ(pub["cases"]["total"], 11) << "the cases not run were not counted";
  EXPECT_EQ(pub["limit_reason"], nullptr) << "the run's own limit stopped it: " << pub.dump(2);
  EXPECT_NEAR(pub["score"].get<double>(), 20.0 / 11, 1e-3);  // score.json rounds
  const std::string output = pub["output"];
  EXPECT_NE(output.find("grader stopped pytest with"), std::string::npos) << output;
  EXPECT_NE(output.find("reported as failed"), std::string::npos) << output;
}

// An honest suite that needs most of the run's CPU is never cut short, even where each case
// may take almost the whole limit (case_timeout 8 s of a 10 s run): six cases of 1 s CPU.
TEST_F(CaseTimeout, ASlowHonestSuiteRunsToItsEnd) {
  std::string tests =
      "import time\n\nimport mathops\n\n\ndef busy(seconds):\n"
      "    end = time.process_time() + seconds\n    while time.process_time() < end:\n"
      "        pass\n";
  for (int i = 0; i < 6; ++i)
    tests += "\n\ndef test_slow_" + std::to_string(i) +
             "():\n    busy(1.0)\n    assert mathops.mul(4, 5) == 20\n";
  rewrite_public_test(dir_ / "mini", tests, "cases = 6\ncase_timeout = 8.0\n");

  nlohmann::json pub = public_entry();
  EXPECT_EQ(pub["cases"]["passed"], 6) << pub.dump(2);
  EXPECT_EQ(pub["cases"]["total"], 6);
  EXPECT_EQ(pub["output"].get<std::string>().find("grader stopped pytest"), std::string::npos)
      << pub["output"];
}

}  // namespace
