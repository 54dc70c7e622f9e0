// One endless loop in one function costs the pytest cases that call it, not the whole test,
// and the student is shown where the code was when it was stopped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace {

TEST(CaseTimeout, ALoopInOneFunctionLosesOnlyItsCases) {
  if (!fs::exists("/usr/lib/python3/dist-packages/pytest_timeout.py"))
    GTEST_FAIL() << "python3-pytest-timeout is not installed (scripts/setup installs it)";
  char pattern[] = "/tmp/grader-loop-XXXXXX";
  fs::path dir = mkdtemp(pattern);
  const fs::path mini = fs::path(SOURCE_DIR) / "tests/fixtures/mini";
  std::ifstream in(mini / "solution/mathops.py");
  std::stringstream text;
  text << in.rdbuf();
  std::string code = text.str();
  const std::string add = "def add(a, b):\n    return a + b\n";
  ASSERT_NE(code.find(add), std::string::npos);
  code.replace(code.find(add), add.size(), "def add(a, b):\n    while True:\n        a = a + 0\n");
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub/mathops.py") << code;
  const std::string cmd = std::string(BUILD_DIR) + "/bin/grader grade " + mini.string() + " " +
                          (dir / "sub").string() + " --out " + (dir / "out").string() +
                          " >/dev/null 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  std::ifstream score_file(dir / "out/score.json");
  nlohmann::json score = nlohmann::json::parse(score_file);
  const nlohmann::json* pub = nullptr;
  for (const auto& t : score["tests"])
    if (t["id"] == "public_basic") pub = &t;
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ((*pub)["cases"]["passed"], 2) << pub->dump(2);  // the two mul cases
  EXPECT_EQ((*pub)["cases"]["total"], 4);
  const std::string output = (*pub)["output"];
  EXPECT_NE(output.find("its own time limit"), std::string::npos) << output;
  EXPECT_NE(output.find("def add"), std::string::npos) << "no traceback of the loop: " << output;
  fs::remove_all(dir);
}

}  // namespace
