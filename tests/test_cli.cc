// What a TA sees on day one at the command line: help lists the commands, a typo gets a
// suggestion, an unknown assignment lists the ones that exist.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <string>

namespace {

struct Ran {
  int status = -1;
  std::string output;
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

TEST(Cli, HelpListsTheCommands) {
  Ran r = grader("help");
  EXPECT_EQ(r.status, 0);
  for (const char* command : {"check", "grade", "batch", "gradebook", "selftest", "gradescope"})
    EXPECT_NE(r.output.find(std::string("  ") + command + " "), std::string::npos) << command;
  EXPECT_NE(grader("help grade").output.find("--min-score"), std::string::npos);
}

TEST(Cli, AMistypedCommandGetsASuggestion) {
  Ran r = grader("gradee a1 x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean 'grade'?"), std::string::npos) << r.output;
  EXPECT_NE(grader("help selftst").output.find("did you mean 'selftest'?"), std::string::npos);
}

TEST(Cli, AnUnknownAssignmentListsTheKnownOnes) {
  Ran r = grader("check a9 /tmp");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no assignment 'a9'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("a1, a2, a3, a4, a5"), std::string::npos) << r.output;
}

}  // namespace
