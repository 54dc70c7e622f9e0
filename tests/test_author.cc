// A TA starting an assignment: `grader new` makes one that passes selftest as it is, and
// `grader validate` names every problem of a folder without grading anything.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr
};

Ran grader(const std::string& args) {
  Ran r;
  FILE* p = popen((std::string(BUILD_DIR) + "/bin/grader " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class Author : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/grader-author-XXXXXX";
    dir_ = mkdtemp(pattern);
    a6_ = dir_ / "a6";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, a6_;
};

TEST_F(Author, ANewAssignmentValidatesAndPassesItsSelftest) {
  Ran made = grader("new a6 " + a6_.string());
  ASSERT_EQ(made.status, 0) << made.output;
  EXPECT_TRUE(fs::is_regular_file(a6_ / "solution/squares.py"));
  Ran valid = grader("validate " + a6_.string());
  EXPECT_EQ(valid.status, 0) << valid.output;
  EXPECT_NE(valid.output.find("a6 0.1.0: 2 tests, 100 points (20 public), 20 self_reported; 1 "
                              "variants"),
            std::string::npos)
      << valid.output;
  Ran self = grader("selftest " + a6_.string());
  EXPECT_EQ(self.status, 0) << self.output;
  EXPECT_NE(self.output.find("3 of 3 self-test gradings as expected"), std::string::npos)
      << self.output;
  EXPECT_EQ(grader("new a6 " + a6_.string()).status, 2);  // never over an existing folder
  EXPECT_EQ(grader("new 'A 6' " + (dir_ / "x").string()).status, 2);
}

TEST_F(Author, ValidateNamesEveryProblem) {
  ASSERT_EQ(grader("new a6 " + a6_.string()).status, 0);
  fs::remove_all(a6_ / "solution");
  std::ofstream(a6_ / "variants/expected.toml") << "[wrong_negative]\nscore = 140.0\n";
  Ran r = grader("validate " + a6_.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no solution/ folder"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[wrong_negative] score 140 is outside 0..100"), std::string::npos)
      << r.output;

  std::ofstream(a6_ / "variants/stray.patch") << "";
  r = grader("validate " + a6_.string());
  EXPECT_NE(r.output.find("stray.patch: no [stray] in"), std::string::npos) << r.output;

  std::ofstream(a6_ / "assignment.toml", std::ios::app) << "\n[surprise]\nkey = 1\n";
  r = grader("validate " + a6_.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("assignment.toml"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("surprise"), std::string::npos) << r.output;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(Author, AVariantOpensAsAFolderAndSavesBackAsAPatch) {
  ASSERT_EQ(grader("new a6 " + a6_.string()).status, 0);
  const fs::path open = dir_ / "open";
  Ran r = grader("variant open " + a6_.string() + " wrong_negative " + open.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read(open / "squares.py").find("return x * abs(x)"), std::string::npos);
  EXPECT_EQ(grader("variant open " + a6_.string() + " wrong_negative " + open.string()).status, 2)
      << "opened over an existing folder";

  // Edited and saved back: the patch holds the edit, and opens again as the edited folder.
  std::ofstream(open / "squares.py", std::ios::app) << "\n\ndef cube(x):\n    return x ** 3\n";
  std::ofstream(open / "helper.py") << "X = 1\n";
  r = grader("variant save " + a6_.string() + " wrong_negative " + open.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string patch = read(a6_ / "variants/wrong_negative.patch");
  EXPECT_NE(patch.find("+def cube(x):"), std::string::npos) << patch;
  EXPECT_NE(patch.find("+++ b/helper.py"), std::string::npos) << patch;
  const fs::path again = dir_ / "again";
  ASSERT_EQ(grader("variant open " + a6_.string() + " wrong_negative " + again.string()).status, 0);
  EXPECT_EQ(read(again / "squares.py"), read(open / "squares.py"));
  EXPECT_EQ(read(again / "helper.py"), "X = 1\n");

  // A new variant needs its score; then validate and selftest know it.
  const fs::path fresh = dir_ / "fresh";
  fs::copy(a6_ / "solution", fresh, fs::copy_options::recursive);
  r = grader("variant save " + a6_.string() + " same_as_solution " + fresh.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("give its --score"), std::string::npos) << r.output;
  r = grader("variant save " + a6_.string() + " same_as_solution " + fresh.string() +
             " --score 100 --why 'the \"reference\" itself'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read(a6_ / "variants/expected.toml").find("[same_as_solution]\nscore = 100.0\n"),
            std::string::npos);
  Ran self = grader("selftest " + a6_.string());
  EXPECT_EQ(self.status, 0) << self.output;
  EXPECT_NE(self.output.find("variants/same_as_solution"), std::string::npos) << self.output;
  EXPECT_NE(self.output.find("4 of 4 self-test gradings as expected"), std::string::npos)
      << self.output;
}

TEST_F(Author, APatchThatNoLongerAppliesIsNamed) {
  ASSERT_EQ(grader("new a6 " + a6_.string()).status, 0);
  std::ofstream(a6_ / "solution/squares.py", std::ios::trunc)
      << "def square(x):\n    return x ** 2\n";
  Ran r = grader("validate " + a6_.string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("wrong_negative.patch: squares.py: hunk 1 of 1"), std::string::npos)
      << r.output;
  r = grader("selftest " + a6_.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("does not apply"), std::string::npos) << r.output;
}

TEST(AuthorBundled, TheFiveAssignmentsValidate) {
  Ran r = grader("validate a1 a2 a3 a4 a5");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* id : {"a1 ", "a2 ", "a3 ", "a4 ", "a5 "})
    EXPECT_NE(r.output.find(id), std::string::npos) << r.output;
}

}  // namespace
