// common/spawn: the one way the grader starts a program.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/spawn.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Spawn, OutputGoesToTheFileAndStdinIsEmpty) {
  const fs::path log = fs::temp_directory_path() / ("spawn-test-" + std::to_string(getpid()));
  std::string error;
  const auto pid = common::spawn(
      {{"/bin/sh", "-c", "echo out; echo err >&2; cat; ls /proc/self/fd; exit 7"}, log}, error);
  ASSERT_TRUE(pid) << error;
  const common::Waited w = common::wait_until(*pid, Clock::now() + std::chrono::seconds(30));
  EXPECT_EQ(w.end, common::Waited::End::Exited);
  EXPECT_EQ(w.exit_status, 7);
  // 0, 1, 2 and the one ls opens to list them: nothing of this process leaks in.
  EXPECT_EQ(read(log), "out\nerr\n0\n1\n2\n3\n");
  EXPECT_EQ(fs::status(log).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(log);
}

TEST(Spawn, AMissingProgramIsAnErrorNamingIt) {
  std::string error;
  EXPECT_FALSE(common::spawn({{"/nonexistent/prog"}, "/dev/null"}, error));
  EXPECT_NE(error.find("cannot start /nonexistent/prog"), std::string::npos) << error;
  const common::Finished f = common::run_to_end({"/nonexistent/prog"});
  EXPECT_NE(f.error.find("cannot start /nonexistent/prog"), std::string::npos) << f.error;
  EXPECT_EQ(f.exit_status, -1);
}

TEST(Spawn, TheDeadlineKillsAndReaps) {
  std::string error;
  const auto pid = common::spawn({{"/bin/sleep", "30"}, "/dev/null"}, error);
  ASSERT_TRUE(pid) << error;
  const auto started = Clock::now();
  const common::Waited w = common::wait_until(*pid, started + std::chrono::milliseconds(200));
  EXPECT_EQ(w.end, common::Waited::End::Deadline);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(::waitpid(*pid, nullptr, WNOHANG), -1);  // reaped already
}

TEST(Spawn, ItsOwnProcessGroupOnRequest) {
  std::string error;
  const auto pid = common::spawn({{"/bin/sleep", "30"}, "/dev/null", 0600, true}, error);
  ASSERT_TRUE(pid) << error;
  EXPECT_EQ(::getpgid(*pid), *pid);
  ::kill(-*pid, SIGKILL);
  EXPECT_EQ(common::wait_until(*pid, Clock::now() + std::chrono::seconds(30)).exit_status, -1);
}

TEST(RunToEnd, ReadsBothStreamsWholeEvenWhenLarge) {
  // 1 MiB on each stream: more than a pipe holds, so reading one to its end first would hang.
  const common::Finished f = common::run_to_end(
      {"/bin/sh", "-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; exit 3"});
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.exit_status, 3);
  EXPECT_EQ(f.out.size(), 1048576u);
  EXPECT_EQ(f.err.size(), 1048576u);
}

TEST(RunToEnd, TheEnvironmentIsReplacedWhenGiven) {
  const common::Finished f =
      common::run_to_end({"/usr/bin/env"}, std::vector<std::string>{"ONLY=this"});
  EXPECT_EQ(f.out, "ONLY=this\n");
}

}  // namespace
