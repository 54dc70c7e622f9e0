// The engine's pool of warm-start zygotes (grader/box/zygotes.h): started ahead without
// waiting, started again when one died, given up on (the runs start cold) when one cannot
// start. Real zygotes through grader-sandbox, as root.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "grader/box/zygotes.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSandbox = fs::path(BUILD_DIR) / "bin" / "grader-sandbox";

grader::ZygoteKey key(std::vector<std::string> preload) {
  return {"/usr/bin/python3", std::move(preload), {{"OMP_NUM_THREADS", "1"}}};
}

// The pid of this process's child that serves `socket` (the interpreter running
// grader-zygote.py, whose command line names it), or -1.
pid_t zygote_serving(const std::string& socket) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), {});
    if (args.find("--socket") == std::string::npos) continue;  // grader-zygote.py
    if (args.find(socket) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string pid, comm, state;
    pid_t ppid = -1;
    stat >> pid >> comm >> state >> ppid;
    if (ppid == getpid()) return std::stoi(name);
  }
  return -1;
}

// Whether `pid` has exited (a zombie until the pool reaps it), waiting up to 10 s.
bool exited(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field, comm, state;
    if (!(stat >> field >> comm >> state) || state == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class Zygotes : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(geteuid(), 0u) << "warm start needs root"; }
};

TEST_F(Zygotes, WarmUpReturnsBeforeTheImportsAndTheSocketWaitsForThem) {
  grader::Zygotes pool(kSandbox);
  const auto started = std::chrono::steady_clock::now();
  pool.warm_up(key({"torch"}));
  const double warm_up_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Importing torch takes at least half a second here: warm_up did not wait for it.
  EXPECT_LT(warm_up_s, 0.3);
  std::string why;
  const std::string socket = pool.socket_for(key({"torch"}), why);
  ASSERT_FALSE(socket.empty()) << why;
  EXPECT_TRUE(fs::is_socket(socket));
  EXPECT_TRUE(why.empty()) << why;
  EXPECT_EQ(pool.socket_for(key({"torch"}), why), socket) << "one zygote per key";
}

TEST_F(Zygotes, ADeadZygoteIsStartedAgain) {
  grader::Zygotes pool(kSandbox);
  std::string why;
  const std::string first = pool.socket_for(key({"json"}), why);
  ASSERT_FALSE(first.empty()) << why;
  const pid_t pid = zygote_serving(first);
  ASSERT_GT(pid, 0) << "no child of this process serves " << first;
  ASSERT_EQ(kill(-pid, SIGKILL), 0);
  ASSERT_TRUE(exited(pid));
  const std::string second = pool.socket_for(key({"json"}), why);
  ASSERT_FALSE(second.empty()) << why;
  EXPECT_NE(second, first);
  EXPECT_TRUE(fs::is_socket(second));
  EXPECT_FALSE(fs::exists(first)) << "the dead zygote's socket is removed";
}

TEST_F(Zygotes, OneThatCannotStartIsGivenUpOnWithTheReason) {
  grader::Zygotes pool(kSandbox);
  pool.warm_up(key({"no_such_module_for_the_zygote_test"}));
  std::string why;
  EXPECT_EQ(pool.socket_for(key({"no_such_module_for_the_zygote_test"}), why), "");
  EXPECT_NE(why.find("the zygote did not start"), std::string::npos) << why;
  // Given up on: asked again, it answers at once with the same reason and starts nothing.
  std::string again;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(pool.socket_for(key({"no_such_module_for_the_zygote_test"}), again), "");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 0.1);
  EXPECT_EQ(again, why);
  // Another key is unaffected.
  std::string other;
  EXPECT_FALSE(pool.socket_for(key({"json"}), other).empty()) << other;
}

}  // namespace
