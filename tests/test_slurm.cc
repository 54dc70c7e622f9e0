// grader slurm against a real single-node Slurm (munged, slurmctld, slurmd) that this test
// starts without systemd (tests/slurm/start.sh) and stops at the end.
#include <gtest/gtest.h>

#include <regex>

#include "grader/course/slurm.h"
#include "tests/batch_harness.h"

using namespace batch_test;

namespace {

const fs::path kSlurmDir = fs::path(SOURCE_DIR) / "tests" / "slurm";

TEST(SlurmScripts, ArrayAndMergeScriptsQuoteEveryPath) {
  grader::slurm::Options o;
  o.grader = "/opt/grader/bin/grader";
  o.assignment = "/course/assignments/a1";
  o.submissions = "/data/it's here";
  o.out = "/data/out a1";
  o.shards = 4;
  o.cpus_per_task = 2;
  o.sbatch_args = {"--gres=gpu:1"};
  auto s = grader::slurm::make_scripts(o);
  EXPECT_EQ(s.dir, fs::path("/data/out a1.shards"));
  EXPECT_NE(s.array.find("#SBATCH --array=1-4\n"), std::string::npos) << s.array;
  EXPECT_NE(s.array.find("#SBATCH --cpus-per-task=2\n"), std::string::npos);
  EXPECT_NE(s.array.find("#SBATCH --gres=gpu:1\n"), std::string::npos);
  EXPECT_NE(s.array.find("'/data/it'\\''s here'"), std::string::npos) << s.array;
  EXPECT_NE(s.array.find("--shard \"$K/4\""), std::string::npos);
  EXPECT_NE(
      s.merge.find("merge '/data/out a1.shards/1' '/data/out a1.shards/2' '/data/out a1.shards/3' "
                   "'/data/out a1.shards/4' --out '/data/out a1'"),
      std::string::npos)
      << s.merge;
}

TEST(SlurmScripts, DryRunPrintsBothScripts) {
  fs::path tmp = fs::temp_directory_path() / ("grader-slurm-dry-" + std::to_string(::getpid()));
  auto r = run_grader({"slurm", kTiny.string(), tmp.string(), "--out", (tmp / "out").string(),
                       "--shards", "3", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("#SBATCH --array=1-3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("afterok"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp / "out.shards"));  // a dry run writes nothing
}

class RealSlurm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("grader-slurm-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cluster");
    std::string cmd = (kSlurmDir / "start.sh").string() + " " + (dir_ / "cluster").string() + " >" +
                      (dir_ / "start.log").string() + " 2>&1";
    started_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::string cmd = (kSlurmDir / "stop.sh").string() + " " + (dir_ / "cluster").string();
    (void)std::system(cmd.c_str());
    fs::remove_all(dir_);
  }
  static std::map<std::string, std::string> env() {
    return {{"SLURM_CONF", (dir_ / "cluster" / "slurm.conf").string()}};
  }
  static inline fs::path dir_;
  static inline bool started_ = false;
};

TEST_F(RealSlurm, JobArrayAndDependentMergeMatchASingleMachineRun) {
  ASSERT_TRUE(started_) << read(dir_ / "start.log");
  fs::path in = dir_ / "in";
  make_class(in, 6);
  auto r = run_grader({"slurm", kTiny.string(), in.string(), "--out", (dir_ / "out").string(),
                       "--shards", "2", "--cpus-per-task", "1", "--time", "00:10:00"},
                      env());
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("array job ([0-9]+) .* merge job ([0-9]+)")))
      << r.out;
  std::string array = m[1], merge = m[2];

  // Poll squeue (faster than sbatch --wait) until both jobs have left the queue.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  for (;;) {
    auto q = run_grader({"-h", "-j", array + "," + merge, "-o", "%i %T"}, env(), "/usr/bin/squeue");
    if (q.status == 0 && q.out.find_first_not_of(" \n") == std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "jobs still queued: " << q.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  fs::path shards = dir_ / "out.shards";
  for (int k = 1; k <= 2; ++k) {
    fs::path log = shards / "logs" / ("grade_" + array + "_" + std::to_string(k) + ".out");
    EXPECT_TRUE(fs::exists(log)) << log;
    ASSERT_TRUE(fs::exists(shards / std::to_string(k) / "summary.json"))
        << "task " << k << ": " << read(log);
    EXPECT_EQ(read_json(shards / std::to_string(k) / "summary.json")["shard"]["count"], 2);
  }
  ASSERT_TRUE(fs::exists(dir_ / "out" / "summary.json"))
      << "merge job: " << read(shards / "logs" / ("merge_" + merge + ".out"));

  auto single =
      run_grader({"batch", kTiny.string(), in.string(), "--out", (dir_ / "single").string(), "-q"});
  ASSERT_EQ(single.status, 0) << single.err;
  EXPECT_EQ(compare_outputs(dir_ / "single", dir_ / "out"), "");
  EXPECT_EQ(read(dir_ / "single" / "summary.csv"), read(dir_ / "out" / "summary.csv"));
}

}  // namespace
