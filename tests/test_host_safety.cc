// A grading leaves the host as it found it: a submission that fills its folders stops at the
// caps, and neither its bytes nor its tree (far deeper than the open-file limit) survive the
// grading, measured on a file system of the test's own that holds everything the grader writes.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <map>

#include "grader/course/variants.h"
#include "grader/engine/engine.h"
#include "sandbox/tree.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kFixture = fs::path(SOURCE_DIR) / "tests/fixtures/mini";
const fs::path kGrader = fs::path(BUILD_DIR) / "bin/grader";

uint64_t used_bytes(const fs::path& p) {
  struct statvfs st {};
  statvfs(p.c_str(), &st);
  return static_cast<uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
}

TEST(HostSafety, AGradingThatFillsItsFoldersLeavesNothingBehind) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount the measuring file system";
  char pattern[] = "/tmp/grader-host-safety-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path root = pattern;
  ASSERT_EQ(mount("tmpfs", root.c_str(), "tmpfs", 0, "size=512m,mode=0755"), 0);
  fs::create_directories(root / "scratch");
  grader::open_variant(kFixture, kFixture / "variants/fills_disk.patch", root / "submission");
  const uint64_t before = used_bytes(root);

  const std::string command = "TMPDIR=" + (root / "scratch").string() + " " + kGrader.string() +
                              " grade " + kFixture.string() + " " + (root / "submission").string() +
                              " --out " + (root / "out").string() + " >/dev/null 2>&1";
  ASSERT_EQ(WEXITSTATUS(std::system(command.c_str())), 0);
  std::ifstream in(root / "out/score.json");
  json score = json::parse(in);
  std::map<std::string, json> tests;
  for (const json& t : score["tests"]) tests[t["id"]] = t;
  EXPECT_EQ(tests["hidden_dot"]["verdict"], "output_limit");
  EXPECT_EQ(tests["hidden_dot"]["limit_reason"], "disk");
  EXPECT_EQ(tests["hidden_fib"]["verdict"], "output_limit");
  EXPECT_EQ(tests["hidden_fib"]["limit_reason"], "inodes");
  EXPECT_EQ(tests["hidden_norm"]["limit_reason"], "inodes") << "the deep tree hit /work's cap";
  EXPECT_EQ(tests["hidden_norm"]["status"], "passed");
  EXPECT_DOUBLE_EQ(score["totals"]["final"].get<double>(), 60.0) << score["totals"].dump();

  EXPECT_TRUE(fs::is_empty(root / "scratch")) << "the grading left its scratch folder";
  std::error_code ec;
  uint64_t outputs = 0;
  for (const auto& e : fs::recursive_directory_iterator(root / "out", ec))
    if (e.is_regular_file()) outputs += e.file_size();
  const uint64_t after = used_bytes(root);
  // What remains is the score files (and the tmpfs's own page rounding).
  EXPECT_LT(after - before, outputs + (1u << 20));
  umount2(root.c_str(), MNT_DETACH);
  rmdir(root.c_str());
}

}  // namespace
