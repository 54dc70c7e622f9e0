// Warm start (sandbox/README.md): programs forked from a zygote that imported torch and numpy.
// The hostile battery runs warm in test_sandbox.cc (Hostile/Warm); here is what is warm's own:
// runs that cannot reach each other or the zygote, fresh random streams, the zygote unchanged
// by its runs, and every way a run falls back to a cold start. One process (SetUpTestSuite):
// the zygote imports torch once for all of them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "sandbox_harness.h"

using harness::Who;
namespace fs = std::filesystem;

namespace {

class Warm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    zygote_ = std::make_unique<harness::Zygote>("torch,numpy",
                                                std::vector<std::string>{"OMP_NUM_THREADS=1"});
  }
  static void TearDownTestSuite() { zygote_.reset(); }
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "warm start needs root";
    ASSERT_TRUE(zygote_->ready()) << zygote_->log();
  }

  // Runs `code` as /work/main.py (or with `argv` after the interpreter) through the zygote.
  static harness::Outcome python(const std::string& code, std::vector<std::string> options = {},
                                 std::vector<std::string> argv = {"/work/main.py"},
                                 Who who = Who::Root) {
    fs::path dir = harness::fresh_dir("warm");
    std::ofstream(dir / "main.py") << code;
    chmod((dir / "main.py").c_str(), 0644);
    options.insert(options.end(), {"--ro-bind", dir.string() + ":/work", "--cwd", "/work", "--env",
                                   "OMP_NUM_THREADS=1", "--env", "HOME=/tmp", "--memory", "1G",
                                   "--pids", "128", "--cpu-time", "60"});
    if (std::find(options.begin(), options.end(), "--zygote") == options.end())
      options.insert(options.end(), {"--zygote", zygote_->socket()});
    argv.insert(argv.begin(), "/usr/bin/python3");
    auto o = harness::run_sandbox(who, options, argv);
    fs::remove_all(dir);
    return o;
  }
  static std::string start(const harness::Outcome& o) { return o.result.value("start", ""); }
  static std::string note(const harness::Outcome& o) {
    return o.result["start_note"].is_string() ? o.result["start_note"].get<std::string>() : "";
  }

  static std::unique_ptr<harness::Zygote> zygote_;
};

std::unique_ptr<harness::Zygote> Warm::zygote_;

// The zygote's open descriptors and resident memory (kB).
std::pair<int, long> zygote_state(pid_t pid) {
  int fds = 0;
  for ([[maybe_unused]] const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++fds;
  long rss = -1;
  std::istringstream status(harness::read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
  return {fds, rss};
}

TEST_F(Warm, TorchComputesInAWarmRun) {
  auto o = python("import torch\nprint(int(torch.arange(4).sum()))\n");
  EXPECT_EQ(o.result["verdict"], "ok") << o.err;
  EXPECT_EQ(start(o), "warm") << note(o);
  EXPECT_EQ(o.out, "6\n");
}

TEST_F(Warm, ScriptSeesTheArgvPathAndEnvironmentOfAColdRun) {
  const char* code =
      "import os, sys\n"
      "print(sys.argv)\n"
      "print(sys.path)\n"
      "print(sorted(k for k in os.environ))\n"
      "print(os.getuid(), os.getcwd(), os.getpid())\n";
  auto warm = python(code, {"--env", "PYTHONPATH=/extra"}, {"/work/main.py", "x", "y"});
  EXPECT_EQ(start(warm), "warm") << note(warm);
  auto cold = python(code, {"--env", "PYTHONPATH=/extra", "--zygote", "/nonexistent/sock"},
                     {"/work/main.py", "x", "y"});
  EXPECT_EQ(start(cold), "cold");
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_NE(warm.out.find("['/work/main.py', 'x', 'y']\n['/work', '/extra', "), std::string::npos)
      << warm.out;
  EXPECT_NE(warm.out.find("65534 /work 2\n"), std::string::npos) << warm.out;
}

// -I (a2's perf runs: nothing under /work importable) starts warm, with a cold -I run's path:
// no PYTHONPATH, no user site, no script folder first.
TEST_F(Warm, IsolatedModeStartsWarmWithAColdIsolatedRunsPath) {
  const char* code =
      "import sys\nprint(sys.argv)\nprint(sys.path)\nprint(sys.dont_write_bytecode)\n";
  const std::vector<std::string> argv{"-I", "/work/main.py", "x"};
  std::vector<std::string> options{"--env", "PYTHONPATH=/extra", "--env",
                                   "PYTHONDONTWRITEBYTECODE=1"};
  auto warm = python(code, options, argv);
  EXPECT_EQ(start(warm), "warm") << note(warm);
  options.insert(options.end(), {"--zygote", "/nonexistent/sock"});
  auto cold = python(code, options, argv);
  EXPECT_EQ(start(cold), "cold");
  EXPECT_EQ(warm.out, cold.out) << warm.err;
  EXPECT_NE(warm.out.find("['/work/main.py', 'x']\n"), std::string::npos) << warm.out;
  EXPECT_EQ(warm.out.find("/extra"), std::string::npos) << warm.out;
  EXPECT_EQ(warm.out.find("'/work'"), std::string::npos) << warm.out;
  EXPECT_NE(warm.out.find("False\n"), std::string::npos) << warm.out;
}

// A cold interpreter imports the first sitecustomize.py on its path as it starts (a hostile
// submission's, on PYTHONPATH=/work): a warm one must too, or the attack it makes would be
// skipped in one mode and not the other.
TEST_F(Warm, ASitecustomizeOnThePathRunsFirstAsInAColdRun) {
  fs::path site = harness::fresh_dir("site");
  std::ofstream(site / "sitecustomize.py") << "print('customized')\n";
  chmod((site / "sitecustomize.py").c_str(), 0644);
  const std::vector<std::string> options{"--ro-bind", site.string() + ":/site", "--env",
                                         "PYTHONPATH=/site"};
  auto warm = python("print('main')\n", options);
  auto opts = options;
  opts.insert(opts.end(), {"--zygote", "/nonexistent/sock"});
  auto cold = python("print('main')\n", opts);
  EXPECT_EQ(warm.out, "customized\nmain\n") << warm.err;
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_EQ(start(warm), "warm") << note(warm);
  fs::remove_all(site);
}

TEST_F(Warm, CodeGivenWithDashCRunsAsMain) {
  const char* code = "import sys; print(__name__, sys.argv, sys.path[0] == '')";
  auto warm = python("", {}, {"-c", code, "a"});
  auto cold = python("", {"--zygote", "/nonexistent/sock"}, {"-c", code, "a"});
  EXPECT_EQ(warm.out, "__main__ ['-c', 'a'] True\n") << warm.err;
  EXPECT_EQ(warm.out, cold.out);
  EXPECT_EQ(start(warm), "warm") << note(warm);
}

TEST_F(Warm, PytestRunsAsAModule) {
  auto o = python("def test_ok():\n    assert 1 + 1 == 2\n", {},
                  {"-m", "pytest", "-q", "-p", "no:cacheprovider", "/work/main.py"});
  EXPECT_EQ(o.result["verdict"], "ok") << o.out << o.err;
  EXPECT_EQ(start(o), "warm") << note(o);
  EXPECT_NE(o.out.find("1 passed"), std::string::npos) << o.out;
}

TEST_F(Warm, ExitStatusUncaughtErrorsAndExitHandlersAreAColdRuns) {
  auto exit3 = python("import sys\nsys.exit(3)\n");
  EXPECT_EQ(exit3.result["exit_code"], 3);
  auto raised = python("raise ValueError('boom')\n");
  EXPECT_EQ(raised.result["exit_code"], 1);
  EXPECT_NE(raised.err.find("ValueError: boom"), std::string::npos) << raised.err;
  auto handler = python(
      "import atexit, sys, threading, time\n"
      "atexit.register(lambda: print('handler'))\n"
      "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\n"
      "print('main', end='')\n");
  EXPECT_EQ(handler.result["exit_code"], 0);
  EXPECT_EQ(handler.out, "mainthread\nhandler\n");
  for (const auto* o : {&exit3, &raised, &handler}) EXPECT_EQ(start(*o), "warm") << note(*o);
}

// What one run does to torch, its globals, its files, its threads and children is gone in the
// next: each is a fresh fork of a zygote that never ran anything.
TEST_F(Warm, ARunLeavesNothingForTheNext) {
  auto first = python(
      "import torch, numpy, os, threading, time, sys\n"
      "torch.ones = lambda *a, **k: 'forged'\n"
      "numpy.__dict__['planted'] = 1\n"
      "sys.modules['planted_module'] = object()\n"
      "open('/tmp/planted', 'w').write('x')\n"
      "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
      "if os.fork() == 0:\n"
      "    time.sleep(30)\n"
      "print('planted')\n");
  EXPECT_EQ(first.out, "planted\n") << first.err;
  auto second = python(
      "import torch, numpy, os, sys, threading\n"
      "print(int(torch.ones(3).sum()), hasattr(numpy, 'planted'), 'planted_module' in "
      "sys.modules,\n"
      "      os.path.exists('/tmp/planted'), threading.active_count(), os.getpid())\n");
  EXPECT_EQ(second.out, "3 False False False 1 2\n") << second.err;
  for (const auto* o : {&first, &second}) EXPECT_EQ(start(*o), "warm") << note(*o);
}

TEST_F(Warm, EveryRunHasFreshRandomStreamsAndSeedsStillRepeat) {
  const char* unseeded =
      "import random, numpy, torch\n"
      "print(random.random(), numpy.random.rand(), float(torch.rand(1)))\n";
  auto a = python(unseeded), b = python(unseeded);
  std::istringstream sa(a.out), sb(b.out);
  for (int i = 0; i < 3; ++i) {
    std::string x, y;
    sa >> x;
    sb >> y;
    EXPECT_NE(x, y) << "stream " << i << " repeated across runs: " << a.out << b.out;
  }
  const char* seeded =
      "import random, numpy, torch\n"
      "random.seed(7); numpy.random.seed(7); torch.manual_seed(7)\n"
      "print(random.random(), numpy.random.rand(), float(torch.rand(1)))\n";
  auto c = python(seeded), d = python(seeded);
  EXPECT_FALSE(c.out.empty()) << c.err;
  EXPECT_EQ(c.out, d.out);
  for (const auto* o : {&a, &b, &c, &d}) EXPECT_EQ(start(*o), "warm") << note(*o);
}

// torch.multiprocessing with fork (as a4's harness starts its ranks) and gloo over loopback.
TEST_F(Warm, ForkedRanksAllReduceOverLoopback) {
  const char* code = R"(
import os, datetime, torch, torch.distributed as dist, torch.multiprocessing as mp
def work(rank):
    dist.init_process_group('gloo', init_method='tcp://127.0.0.1:29535', rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=30))
    t = torch.tensor([rank + 1.0])
    dist.all_reduce(t)
    if rank == 0: print(int(t.item()), flush=True)
    dist.destroy_process_group()
if __name__ == '__main__':
    mp.start_processes(work, nprocs=2, start_method='fork')
)";
  auto o = python(code, {"--network", "loopback"});
  EXPECT_EQ(o.result["verdict"], "ok") << o.err;
  EXPECT_EQ(start(o), "warm") << note(o);
  EXPECT_EQ(o.out, "3\n");
}

// A run's memory counts what it allocates (and the zygote's pages it writes to), not the pages
// it only shares with the zygote: 200 MiB of its own show; the limit holds.
TEST_F(Warm, MemoryAllocatedByTheRunIsCountedAndLimited) {
  auto o = python("import numpy\nx = numpy.ones(200 << 17)\nprint(x.nbytes >> 20)\n");
  EXPECT_EQ(o.out, "200\n") << o.err;
  EXPECT_GE(o.result["peak_memory_bytes"].get<uint64_t>(), 200ull << 20);
  auto bomb = python("import numpy\nx = numpy.ones(1300 << 17)\n");  // 1300 MiB, over 1 GiB
  EXPECT_EQ(bomb.result["verdict"], "memory_limit") << bomb.err;
  for (const auto* r : {&o, &bomb}) EXPECT_EQ(start(*r), "warm") << note(*r);
}

TEST_F(Warm, TheZygoteIsUnchangedAfterAHundredRuns) {
  // One run first: the zygote's allocator settles on its first accept.
  python("print(1)\n");
  auto before = zygote_state(zygote_->pid());
  for (int i = 0; i < 100; ++i) {
    auto o = python("import torch\ntorch.ones = None\nprint(1)\n");
    ASSERT_EQ(o.out, "1\n") << "run " << i << ": " << o.err;
    ASSERT_EQ(start(o), "warm") << note(o);
  }
  auto after = zygote_state(zygote_->pid());
  EXPECT_EQ(after.first, before.first) << "the zygote's open descriptors changed";
  EXPECT_LE(after.second - before.second, 1024)
      << "the zygote grew by more than 1 MiB (kB: " << before.second << " -> " << after.second
      << ")";
}

TEST_F(Warm, WhatCannotStartWarmStartsColdAndSaysWhy) {
  auto unreachable = python("print('ran')\n", {"--zygote", "/nonexistent/zygote.sock"});
  EXPECT_EQ(unreachable.out, "ran\n");
  EXPECT_EQ(start(unreachable), "cold");
  EXPECT_NE(note(unreachable).find("cannot reach the zygote"), std::string::npos)
      << note(unreachable);

  auto option = python("", {}, {"-B", "-c", "print('ran')"});
  EXPECT_EQ(option.out, "ran\n");
  EXPECT_EQ(start(option), "cold");
  EXPECT_NE(note(option).find("interpreter option -B"), std::string::npos) << note(option);

  auto hash_seed = python("print('ran')\n", {"--env", "PYTHONHASHSEED=0"});
  EXPECT_EQ(hash_seed.out, "ran\n");
  EXPECT_EQ(start(hash_seed), "cold");
  EXPECT_NE(note(hash_seed).find("PYTHONHASHSEED"), std::string::npos) << note(hash_seed);

  auto unprivileged = python("print('ran')\n", {}, {"/work/main.py"}, Who::Unprivileged);
  EXPECT_EQ(unprivileged.out, "ran\n") << unprivileged.err;
  EXPECT_EQ(start(unprivileged), "cold");
  EXPECT_NE(note(unprivileged).find("root"), std::string::npos) << note(unprivileged);
}

// A runner killed while its program runs (its zygote killed, say) cannot vouch for the
// program's end: the run is done again, cold, and says so.
TEST_F(Warm, ARunWhoseRunnerDiesIsRunAgainCold) {
  std::thread killer([] {
    const std::string children = "/proc/" + std::to_string(zygote_->pid()) + "/task/" +
                                 std::to_string(zygote_->pid()) + "/children";
    for (int i = 0; i < 1000; ++i) {
      // The runner of this run: the zygote's child that has a child (the program); the
      // spare runner waiting for the next run has none.
      std::istringstream in(harness::read_text(children));
      for (pid_t runner = 0; in >> runner;) {
        const std::string r = std::to_string(runner);
        if (harness::read_text("/proc/" + r + "/task/" + r + "/children").empty()) continue;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        kill(runner, SIGKILL);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  // The program writes a collected /out before the kill, named by how it started (a warm run
  // finds the zygote's numpy imported): the cold run collects into the same folder, which must
  // hold the cold file alone (the warm attempt's files used to be collected too, and the same
  // names then failed the cold run: "create result.txt: File exists").
  const fs::path dir = harness::fresh_dir("warm-collect"), out = dir / "out";
  const fs::path policy = dir / "policy.json";
  std::ofstream(policy) << nlohmann::json{
      {"tmpfs", {{{"dst", "/out"}, {"size", "1M"}, {"collect", out.string()}}}}};
  auto o = python(
      "import sys, time\nhow = 'warm' if 'numpy' in sys.modules else 'cold'\n"
      "open('/out/result.txt', 'w').write(how)\nopen('/out/' + how, 'w').close()\n"
      "time.sleep(3)\nprint('ran')\n",
      {"--policy", policy.string()});
  killer.join();
  EXPECT_EQ(o.result["verdict"], "ok") << o.result.dump();
  EXPECT_EQ(o.out, "ran\n");
  EXPECT_EQ(start(o), "cold") << o.result.dump() << o.err;
  EXPECT_NE(note(o).find("runner ended"), std::string::npos) << note(o);
  EXPECT_EQ(o.result["volumes"][0]["collected_files"], 2) << o.result.dump();
  EXPECT_EQ(harness::read_text(out / "result.txt"), "cold");
  EXPECT_TRUE(fs::exists(out / "cold"));
  EXPECT_FALSE(fs::exists(out / "warm"));
  fs::remove_all(dir);
  // The zygote itself lives on for the next run.
  auto next = python("print('again')\n");
  EXPECT_EQ(start(next), "warm") << note(next);
}

// A zygote whose grader is killed (SIGKILL: no destructor runs) leaves within seconds, and
// takes its socket and log with it.
TEST_F(Warm, AZygoteWhoseGraderDiesLeavesNothingBehind) {
  fs::path dir = harness::fresh_dir("orphan");
  chmod(dir.c_str(), 0700);
  const fs::path sock = dir / "0-1.sock";
  pid_t grader = fork();
  if (grader == 0) {
    // Stands in for the grader: starts the zygote as its child, then waits to be killed.
    if (fork() == 0) {
      int log = open((dir / "0-1.log").c_str(), O_WRONLY | O_CREAT, 0600);
      dup2(log, 1);
      dup2(log, 2);
      execl(BUILD_DIR "/bin/grader-sandbox", "grader-sandbox", "--serve-zygote", sock.c_str(),
            "--preload", "", static_cast<char*>(nullptr));
      _exit(127);
    }
    pause();
    _exit(0);
  }
  for (int i = 0; i < 500 && !fs::is_socket(sock); ++i) usleep(20000);
  ASSERT_TRUE(fs::is_socket(sock)) << harness::read_text(dir / "0-1.log");
  auto o = python("print('warm')\n", {"--zygote", sock.string()});
  EXPECT_EQ(start(o), "warm") << note(o);
  kill(grader, SIGKILL);
  waitpid(grader, nullptr, 0);
  for (int i = 0; i < 250 && fs::exists(dir); ++i) usleep(20000);
  EXPECT_FALSE(fs::exists(dir)) << "left behind in " << dir;
  for (int i = 0; i < 100 && harness::count_processes(sock.string()) > 0; ++i) usleep(20000);
  EXPECT_EQ(harness::count_processes(sock.string()), 0) << "a zygote or runner outlived it";
  fs::remove_all(dir);
}

}  // namespace
