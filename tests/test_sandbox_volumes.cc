// The box's writable folders (capped tmpfs, seeded and collected), its channel (fd 3), the
// removal of trees by descriptors, and the sweep of cgroups that killed supervisors left:
// real runs, as root and as an unprivileged user, each asserting what reaches the host.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "sandbox/cgroup.h"
#include "sandbox/tree.h"
#include "sandbox_harness.h"

using harness::Who;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

uint64_t free_bytes(const fs::path& p) {
  struct statvfs st {};
  statvfs(p.c_str(), &st);
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Everything under `dir`, as relative paths (folders end in '/').
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::string rel = fs::relative(it->path(), dir).string();
    out.insert(it->is_directory() && !it->is_symlink() ? rel + "/" : rel);
  }
  return out;
}

class Volumes : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::Root && geteuid() != 0) GTEST_SKIP() << "root mode needs root";
    dir_ = harness::fresh_dir("volumes");
    if (GetParam() == Who::Unprivileged && geteuid() == 0) {
      // The unprivileged supervisor owns its folders, as a TA's grader owns its scratch.
      const int id = harness::unprivileged_uid();
      if (chown(dir_.c_str(), id, id) != 0) GTEST_FAIL() << "chown " << dir_;
      owner_ = id;
    }
  }
  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_EQ(sandbox::remove_tree(dir_.string()), "");
    }
  }
  // A folder of ours the supervisor may read (the seed) or create things in.
  fs::path folder(const std::string& name) {
    fs::path p = dir_ / name;
    fs::create_directories(p);
    if (owner_ >= 0) (void)!chown(p.c_str(), owner_, owner_);
    return p;
  }
  harness::Outcome run(const nlohmann::json& policy, const std::string& script,
                       const std::string& program = "/bin/sh") {
    fs::path file = dir_ / ("policy-" + std::to_string(runs_++) + ".json");
    std::ofstream(file) << policy.dump();
    std::vector<std::string> command = {program, "-c", script};
    return harness::run_sandbox(GetParam(), {"--policy", file.string()}, command);
  }
  fs::path dir_;
  int owner_ = -1;
  int runs_ = 0;
};

TEST_P(Volumes, SeedGoesInAndPlainFilesComeBack) {
  fs::path seed = folder("seed"), out = dir_ / "collected";
  fs::create_directories(seed / "pkg");
  std::ofstream(seed / "a.py") << "print(1)\n";
  std::ofstream(seed / "pkg" / "b.txt") << "b\n";
  if (owner_ >= 0)
    for (const auto& p : {seed / "a.py", seed / "pkg", seed / "pkg" / "b.txt"})
      (void)!chown(p.c_str(), owner_, owner_);
  nlohmann::json policy = {
      {"cwd", "/work"},
      {"tmpfs", {{{"dst", "/work"}, {"seed", seed.string()}, {"collect", out.string()}}}}};
  auto o = run(policy,
               "cat a.py pkg/b.txt && echo new > new.txt && rm pkg/b.txt && mkdir -p d/e && "
               "echo deep > d/e/f && ln -s /etc/passwd link && mkfifo pipe && "
               "chmod 000 d && id -u");
  ASSERT_EQ(o.result.value("verdict", ""), "ok") << o.err << o.result.dump();
  EXPECT_EQ(o.out, "print(1)\nb\n65534\n");
  EXPECT_EQ(listing(out),
            (std::set<std::string>{"a.py", "d/", "d/e/", "d/e/f", "new.txt", "pkg/"}));
  EXPECT_EQ(harness::read_text(out / "d" / "e" / "f"), "deep\n");
  EXPECT_EQ(harness::read_text(seed / "pkg" / "b.txt"), "b\n") << "the seed must not change";
  const auto& v = o.result["volumes"][0];
  EXPECT_EQ(v["dst"], "/work");
  EXPECT_EQ(v["skipped"], 2) << v.dump();  // the link and the FIFO
  EXPECT_TRUE(v["full"].is_null());
}

TEST_P(Volumes, FillingAFolderStopsAtItsCapAndTheHostKeepsItsDisk) {
  // The host's side of the run (result, collected files) on a file system of its own, so that
  // what it loses is measured exactly while other tests write elsewhere.
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount the measuring file system";
  ASSERT_EQ(mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=256m,mode=0777"), 0);
  if (owner_ >= 0) (void)!chown(dir_.c_str(), owner_, owner_);
  const uint64_t before = free_bytes(dir_);
  nlohmann::json policy = {
      {"cwd", "/work"},
      {"memory", "512M"},
      {"tmpfs",
       {{{"dst", "/work"}, {"size", "24M"}},
        {{"dst", "/out"}, {"size", "16M"}, {"collect", (dir_ / "out").string()}}}}};
  for (const char* target : {"/work/big", "/out/big"}) {
    auto o = run(policy, std::string("head -c 200000000 /dev/zero > ") + target + "; echo $?");
    EXPECT_EQ(o.result.value("verdict", ""), "output_limit") << target << o.result.dump();
    EXPECT_EQ(o.result.value("limit_reason", ""), "disk") << target;
    EXPECT_EQ(o.out, "1\n") << target << ": the write must fail with ENOSPC";
  }
  EXPECT_LE(fs::file_size(dir_ / "out" / "big"), 16u << 20);
  sandbox::remove_tree((dir_ / "out").string());
  const uint64_t after = free_bytes(dir_);
  EXPECT_LT(before > after ? before - after : 0, 1u << 20) << "the host lost disk space";
  umount2(dir_.c_str(), MNT_DETACH);
}

TEST_P(Volumes, AMillionEmptyFilesStopAtTheInodeCap) {
  nlohmann::json policy = {
      {"tmpfs", {{{"dst", "/work"}, {"inodes", 2000}, {"collect", (dir_ / "out").string()}}}}};
  auto o = run(policy,
               "import os\n"
               "n = 0\n"
               "try:\n"
               "    for n in range(10**6): open('/work/f%d' % n, 'w').close()\n"
               "except OSError as e: print(n, e.errno)\n",
               kPython);
  EXPECT_EQ(o.result.value("verdict", ""), "output_limit") << o.result.dump() << o.err;
  EXPECT_EQ(o.result.value("limit_reason", ""), "inodes");
  EXPECT_EQ(o.out, "1999 28\n");  // the root holds one inode; ENOSPC
  EXPECT_EQ(o.result["volumes"][0]["collected_files"], 1999);
}

// A tree far deeper than the open-file limit, with a path past PATH_MAX: it lives in the box's
// tmpfs and goes with it; what is collected stops at a bounded depth.
TEST_P(Volumes, ADeepTreeNeverReachesTheHost) {
  nlohmann::json policy = {
      {"cpu_time", 30},
      {"tmpfs",
       {{{"dst", "/work"}, {"inodes", 40000}},
        {{"dst", "/out"}, {"inodes", 40000}, {"collect", (dir_ / "out").string()}}}}};
  auto o = run(policy,
               "import os\n"
               "for root in ('/work', '/out'):\n"
               "    os.chdir(root)\n"
               "    for i in range(30000):\n"
               "        os.mkdir('d'); os.chdir('d')\n"
               "    open('x' * 200, 'w').close()\n"
               "print(len(os.getcwd()))\n",
               kPython);
  ASSERT_EQ(o.result.value("verdict", ""), "ok") << o.result.dump() << o.err;
  EXPECT_EQ(o.out, "60004\n");  // /out and 30000 times /d
  auto entries = listing(dir_ / "out");
  EXPECT_EQ(entries.size(), 32u) << "collected past the depth bound";
  EXPECT_GT(o.result["volumes"][1]["skipped"].get<int>(), 0);
  EXPECT_EQ(sandbox::remove_tree((dir_ / "out").string()), "");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_P(Volumes, ChannelBytesCannotBeEditedAfterwards) {
  fs::path file = dir_ / "channel.jsonl";
  nlohmann::json policy = {{"channel", file.string()}, {"channel_size", 16}};
  // The later writes (an exit handler, a thread) only append; truncating a pipe fails.
  auto o = run(policy,
               "import os, atexit\n"
               "os.write(3, b'{\"k\": 1}\\n')\n"
               "atexit.register(lambda: os.write(3, b'{\"k\": 2}\\n'))\n"
               "try: os.ftruncate(3, 0)\n"
               "except OSError as e: print('truncate', e.errno)\n",
               kPython);
  ASSERT_EQ(o.result.value("verdict", ""), "ok") << o.result.dump() << o.err;
  EXPECT_EQ(o.out, "truncate 22\n");
  EXPECT_EQ(harness::read_text(file), "{\"k\": 1}\n{\"k\": 2");  // capped at 16 bytes
  EXPECT_EQ(o.result["channel_bytes"], 18);
}

INSTANTIATE_TEST_SUITE_P(All, Volumes, ::testing::Values(Who::Root, Who::Unprivileged),
                         [](const auto& info) {
                           return info.param == Who::Root ? "Root" : "Unprivileged";
                         });

// Made with mkdirat, one level at a time: no tool can make it by path.
void make_deep_tree(const fs::path& root, int depth, const std::string& name) {
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(mkdirat(fd, name.c_str(), 0755), 0);
    int next = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    close(fd);
    fd = next;
  }
  close(open((std::string("/proc/self/fd/") + std::to_string(fd) + "/leaf").c_str(),
             O_CREAT | O_WRONLY, 0644));
  close(fd);
}

TEST(RemoveTree, RemovesAnyDepthAndPathLengthWithoutFollowingLinks) {
  fs::path root = harness::fresh_dir("remove");
  fs::path outside = harness::fresh_dir("outside");
  std::ofstream(outside / "keep") << "keep\n";
  make_deep_tree(root, 30000, "d");
  make_deep_tree(root, 40, std::string(200, 'n'));  // 8000 bytes of path
  fs::create_directories(root / "locked" / "inner");
  std::ofstream(root / "locked" / "inner" / "f") << "f";
  chmod((root / "locked" / "inner").c_str(), 0);
  chmod((root / "locked").c_str(), 0);
  fs::create_symlink(outside, root / "link");
  fs::create_symlink(outside / "keep", root / "file-link");
  EXPECT_EQ(sandbox::remove_tree(root.string()), "");
  EXPECT_FALSE(fs::exists(root));
  EXPECT_EQ(harness::read_text(outside / "keep"), "keep\n");
  EXPECT_EQ(sandbox::remove_tree(root.string()), "") << "missing is fine";
  fs::remove_all(outside);
}

// A supervisor killed with SIGKILL leaves its run's cgroups; the sweep removes them, and never
// touches the cgroup of a run whose supervisor is alive.
TEST(StaleCgroups, SweepRemovesOnlyTheDeadSupervisorsCgroups) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (a writable cgroup hierarchy)";
  auto start = [](const char* seconds) {
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      std::string sandbox = std::string(BUILD_DIR) + "/bin/grader-sandbox";
      execl(sandbox.c_str(), sandbox.c_str(), "--cpu-time", "30", "--", "/bin/sleep", seconds,
            nullptr);
      _exit(127);
    }
    return pid;
  };
  auto cgroups_of = [](pid_t supervisor) {
    int n = 0;
    const std::string prefix = "grader-sandbox-" + std::to_string(supervisor) + "-";
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it.depth() > 3) it.disable_recursion_pending();
      if (it->path().filename().string().rfind(prefix, 0) == 0) {
        ++n;
        it.disable_recursion_pending();
      }
    }
    return n;
  };
  pid_t dead = start("30"), alive = start("3");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int before = cgroups_of(dead);
  ASSERT_GT(before, 0) << "no cgroup for the run (is there a writable hierarchy?)";
  kill(dead, SIGKILL);
  waitpid(dead, nullptr, 0);
  EXPECT_EQ(cgroups_of(dead), before) << "a killed supervisor leaves its cgroups";
  std::vector<std::string> failures;
  EXPECT_GE(sandbox::remove_stale_cgroups(failures), before);
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(cgroups_of(dead), 0);
  EXPECT_GT(cgroups_of(alive), 0) << "the live run's cgroup was removed";
  int status = 0;
  waitpid(alive, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(cgroups_of(alive), 0);
}

}  // namespace
