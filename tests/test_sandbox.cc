// grader-sandbox against hostile programs, in C and in Python, as root and as an
// unprivileged user. Each test asserts the verdict and that the host is unharmed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox_harness.h"

using harness::Who;
namespace fs = std::filesystem;

namespace {

// WarmPython: the Python program as a fork of a zygote (warm start, root only), which must
// meet every test a cold program meets.
enum class Lang { C, Python, WarmPython };

// This process's zygote for the warm runs (only the interpreter: hostile.py needs no more).
harness::Zygote& plain_zygote() {
  static harness::Zygote zygote("");
  return zygote;
}

class Hostile : public ::testing::TestWithParam<std::tuple<Who, Lang>> {
 protected:
  Who who() const { return std::get<0>(GetParam()); }
  bool root() const { return who() == Who::Root; }
  void SetUp() override {
    if (root() && geteuid() != 0) GTEST_SKIP() << "root mode needs root";
  }
  // The hostile program for this language, with the binds it needs.
  harness::Outcome run(std::vector<std::string> options, const std::string& mode,
                       const std::string& arg = "", const std::vector<std::string>& env = {},
                       int inherit_fd = -1) {
    std::vector<std::string> command;
    if (std::get<1>(GetParam()) == Lang::C) {
      options.insert(options.end(), {"--ro-bind", std::string(BUILD_DIR) + "/hostile:/hostile"});
      command = {"/hostile/hostile", mode, arg};
    } else {
      options.insert(options.end(),
                     {"--ro-bind", std::string(SOURCE_DIR) + "/tests/hostile:/hostile"});
      command = {"/usr/bin/python3", "/hostile/hostile.py", mode, arg};
    }
    const bool warm = std::get<1>(GetParam()) == Lang::WarmPython;
    if (warm) {
      EXPECT_TRUE(plain_zygote().ready()) << plain_zygote().log();
      options.insert(options.end(), {"--zygote", plain_zygote().socket()});
    }
    auto o = harness::run_sandbox(who(), options, command, env, inherit_fd);
    EXPECT_EQ(o.exit_status, 0) << "grader-sandbox itself failed: " << o.result.dump();
    // A warm test that quietly ran cold would prove nothing about warm runs.
    EXPECT_EQ(o.result.value("start", ""), warm ? "warm" : "cold") << o.result.dump();
    return o;
  }
  static std::string verdict(const harness::Outcome& o) {
    return o.result.value("verdict", "missing");
  }
};

TEST_P(Hostile, NormalProgramIsOkWithItsOutput) {
  auto o = run({}, "echo", "hello");
  EXPECT_EQ(verdict(o), "ok");
  EXPECT_EQ(o.result["exit_code"], 0);
  EXPECT_EQ(o.out, "hello\n");
  EXPECT_EQ(o.err, "err:hello\n");
  EXPECT_EQ(o.result["stdout_bytes"], 6);
  EXPECT_FALSE(o.result["truncated"].get<bool>());
}

TEST_P(Hostile, ExitCodeIsReported) {
  auto o = run({}, "exit", "7");
  EXPECT_EQ(verdict(o), "nonzero_exit");
  EXPECT_EQ(o.result["exit_code"], 7);
}

TEST_P(Hostile, SameResultOnRepeat) {
  auto a = run({}, "exit", "3");
  auto b = run({}, "exit", "3");
  EXPECT_EQ(a.result["verdict"], b.result["verdict"]);
  EXPECT_EQ(a.result["exit_code"], b.result["exit_code"]);
  EXPECT_EQ(a.result["enforced"], b.result["enforced"]);
}

TEST_P(Hostile, MemoryBombIsStopped) {
  auto o = run({"--memory", "256M", "--cpu-time", "5"}, "memory");
  if (root()) {
    EXPECT_EQ(verdict(o), "memory_limit");
    EXPECT_LE(o.result["peak_memory_bytes"].get<uint64_t>(), 257ull << 20);
  } else {
    // Without a delegated cgroup the per-process RLIMIT_DATA refuses the allocation.
    EXPECT_NE(verdict(o), "ok") << o.out;
    EXPECT_EQ(o.result["enforced"]["memory"], "rlimit (per process, RLIMIT_DATA)");
  }
}

TEST_P(Hostile, ForkBombIsContained) {
  auto o = run({"--pids", "32", "--cpu-time", "1", "--wall-time", "3"}, "fork");
  if (root())
    EXPECT_EQ(verdict(o), "process_limit");
  else
    EXPECT_TRUE(verdict(o) == "process_limit" || verdict(o) == "time_limit") << verdict(o);
  EXPECT_LT(o.result["wall_seconds"].get<double>(), 6.0);
}

TEST_P(Hostile, ThreadBombIsContained) {
  auto o = run({"--pids", "48", "--cpu-time", "1", "--wall-time", "3"}, "threads");
  if (root()) {
    EXPECT_EQ(verdict(o), "process_limit");
  } else {
    // Per-process rlimits only: RLIMIT_NPROC refuses the threads, then RLIMIT_CPU or the
    // wall clock ends the spinning; which one shows depends on the machine's load.
    std::string v = verdict(o);
    EXPECT_TRUE(v == "process_limit" || v == "time_limit" || v == "signaled") << v;
  }
  EXPECT_LT(o.result["wall_seconds"].get<double>(), 6.0);
}

TEST_P(Hostile, CpuSpinHitsCpuLimit) {
  // The wall limit is far away: on a loaded machine one CPU second takes longer.
  auto o = run({"--cpu-time", "1", "--wall-time", "30"}, "spin");
  EXPECT_EQ(verdict(o), "time_limit");
  EXPECT_EQ(o.result["limit_reason"], "cpu");
  EXPECT_GE(o.result["cpu_seconds"].get<double>(), 0.9);
}

TEST_P(Hostile, SleepHitsWallLimit) {
  auto o = run({"--cpu-time", "5", "--wall-time", "1"}, "sleep");
  EXPECT_EQ(verdict(o), "time_limit");
  EXPECT_EQ(o.result["limit_reason"], "wall");
  EXPECT_GE(o.result["wall_seconds"].get<double>(), 1.0);
  EXPECT_LT(o.result["wall_seconds"].get<double>(), 3.0);
}

TEST_P(Hostile, DaemonDoesNotOutliveTheRun) {
  fs::path host = harness::fresh_dir("daemon");
  std::string marker = "marker-" + host.filename().string();
  auto o = run({"--bind", host.string() + ":/out"}, "daemon", "/out/" + marker);
  EXPECT_EQ(verdict(o), "ok");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_FALSE(fs::exists(host / marker)) << "a daemon survived the run and wrote its marker";
  EXPECT_EQ(harness::count_processes(marker), 0);
  fs::remove_all(host);
}

TEST_P(Hostile, OutputFloodIsCut) {
  auto o = run({"--output", "1M", "--cpu-time", "10"}, "flood");
  EXPECT_EQ(verdict(o), "output_limit");
  EXPECT_TRUE(o.result["truncated"].get<bool>());
  EXPECT_LE(o.out.size(), 1u << 20);
  EXPECT_LT(o.result["wall_seconds"].get<double>(), 10.0);
}

TEST_P(Hostile, FileSizeFloodIsStopped) {
  fs::path host = harness::fresh_dir("fsize");
  auto o = run({"--file-size", "1M", "--bind", host.string() + ":/out"}, "fill", "/out/big");
  // C dies of SIGXFSZ; Python ignores that signal and sees EFBIG.
  if (std::get<1>(GetParam()) == Lang::C) {
    EXPECT_EQ(verdict(o), "signaled");
    EXPECT_EQ(o.result["signal"], SIGXFSZ);
  } else {
    EXPECT_EQ(verdict(o), "nonzero_exit");
  }
  EXPECT_LE(fs::file_size(host / "big"), 1u << 20);
  fs::remove_all(host);
}

TEST_P(Hostile, TmpAndShmAreCapped) {
  fs::path dir = harness::fresh_dir("policy");
  std::ofstream(dir / "policy.json") << R"({"tmp_size": "8M", "shm_size": "8M"})";
  for (const char* target : {"/tmp/fill", "/dev/shm/fill"}) {
    auto o = run({"--policy", (dir / "policy.json").string()}, "fill", target);
    EXPECT_EQ(verdict(o), "nonzero_exit") << target;
    EXPECT_EQ(o.result["exit_code"], 4) << target << ": expected ENOSPC, got " << o.out;
  }
  fs::remove_all(dir);
}

TEST_P(Hostile, CannotReachHostListener) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string port = std::to_string(ntohs(addr.sin_port));
  for (const char* network : {"none", "loopback"}) {
    auto o = run({"--network", network, "--wall-time", "5"}, "connect", port);
    EXPECT_EQ(verdict(o), "nonzero_exit") << network << ": " << o.out;
    EXPECT_EQ(accept(listener, nullptr, nullptr), -1) << network << ": the box reached the host";
  }
  close(listener);
}

TEST_P(Hostile, CannotReadOutsideTheBinds) {
  fs::path secret_dir = harness::fresh_dir("secret");
  std::ofstream(secret_dir / "expected.json") << "{\"answer\": 42}";
  chmod((secret_dir / "expected.json").c_str(), 0644);
  for (std::string path : {(secret_dir / "expected.json").string(), std::string("/etc/shadow"),
                           std::string(SOURCE_DIR) + "/CMakeLists.txt"}) {
    auto o = run({}, "read", path);
    EXPECT_EQ(verdict(o), "nonzero_exit") << path << ": " << o.out;
  }
  fs::remove_all(secret_dir);
}

TEST_P(Hostile, CannotWriteReadOnlyBind) {
  fs::path host = harness::fresh_dir("ro");
  auto o = run({"--ro-bind", host.string() + ":/ro"}, "write", "/ro/owned");
  EXPECT_EQ(verdict(o), "nonzero_exit") << o.out;
  EXPECT_FALSE(fs::exists(host / "owned"));
  fs::remove_all(host);
}

TEST_P(Hostile, PtraceIsDenied) {
  auto o = run({}, "ptrace");
  EXPECT_EQ(verdict(o), "nonzero_exit") << o.out;
  EXPECT_NE(o.out.find("Operation not permitted"), std::string::npos) << o.out;
}

TEST_P(Hostile, NewNamespacesAreDenied) {
  auto o = run({}, "unshare");
  EXPECT_EQ(verdict(o), "nonzero_exit") << o.out;
}

TEST_P(Hostile, KillAllReachesNothingOutside) {
  // A bystander with the box's own uid on the host: kill(-1) inside must not reach it.
  int uid = root() ? 65534 : harness::unprivileged_uid();
  pid_t bystander = fork();
  if (bystander == 0) {
    if (geteuid() == 0 && (setgid(uid) != 0 || setuid(uid) != 0)) _exit(1);
    execl("/bin/sleep", "sleep", "30", nullptr);
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto o = run({}, "killall");
  EXPECT_TRUE(verdict(o) == "ok" || verdict(o) == "signaled") << verdict(o);
  EXPECT_EQ(kill(bystander, 0), 0) << "kill(-1) in the box reached a host process";
  kill(bystander, SIGKILL);
  waitpid(bystander, nullptr, 0);
}

TEST_P(Hostile, CannotSeeTheGradersEnvironment) {
  auto o = run({}, "environ", "s3cr3t-token", {"GRADER_SECRET=s3cr3t-token"});
  EXPECT_EQ(verdict(o), "nonzero_exit") << o.out;
  EXPECT_NE(o.out.find("not found"), std::string::npos) << o.out;
}

TEST_P(Hostile, InheritedDescriptorIsClosed) {
  fs::path dir = harness::fresh_dir("fd");
  std::ofstream(dir / "secret") << "secret";
  int fd = open((dir / "secret").c_str(), O_RDONLY);
  ASSERT_GE(fd, 3);
  auto o = run({}, "fds", "", {}, fd);
  close(fd);
  EXPECT_EQ(verdict(o), "nonzero_exit") << "leaked: " << o.out;
  fs::remove_all(dir);
}

std::string name(const ::testing::TestParamInfo<std::tuple<Who, Lang>>& info) {
  const Lang lang = std::get<1>(info.param);
  return std::string(std::get<0>(info.param) == Who::Root ? "Root" : "Unprivileged") +
         (lang == Lang::C        ? "C"
          : lang == Lang::Python ? "Python"
                                 : "WarmPython");
}

INSTANTIATE_TEST_SUITE_P(All, Hostile,
                         ::testing::Combine(::testing::Values(Who::Root, Who::Unprivileged),
                                            ::testing::Values(Lang::C, Lang::Python)),
                         name);
// Warm start is root's (a zygote's runner joins the box's namespaces).
INSTANTIATE_TEST_SUITE_P(Warm, Hostile,
                         ::testing::Combine(::testing::Values(Who::Root),
                                            ::testing::Values(Lang::WarmPython)),
                         name);

// Debian's Python stack in the box: pytest, torch, and torch.distributed (gloo over loopback).
class PythonStack : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::Root && geteuid() != 0) GTEST_SKIP() << "root mode needs root";
  }
  harness::Outcome python(const std::string& code, std::vector<std::string> options = {}) {
    fs::path dir = harness::fresh_dir("py");
    std::ofstream(dir / "main.py") << code;
    chmod((dir / "main.py").c_str(), 0644);
    options.insert(options.end(), {"--ro-bind", dir.string() + ":/work", "--cwd", "/work", "--env",
                                   "OMP_NUM_THREADS=1", "--env", "HOME=/tmp", "--memory", "1G",
                                   "--pids", "128", "--cpu-time", "60"});
    auto o = harness::run_sandbox(GetParam(), options, {"/usr/bin/python3", "/work/main.py"});
    fs::remove_all(dir);
    return o;
  }
};

TEST_P(PythonStack, PythonRuns) {
  auto o = python("import sys; print(sys.version_info[0])");
  EXPECT_EQ(o.result["verdict"], "ok") << o.err;
  EXPECT_EQ(o.out, "3\n");
}

TEST_P(PythonStack, PytestRuns) {
  auto o = python(
      "import pytest, sys\n"
      "open('/tmp/test_x.py','w').write('def test_ok():\\n    assert 1 + 1 == 2\\n')\n"
      "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '/tmp/test_x.py']))\n");
  EXPECT_EQ(o.result["verdict"], "ok") << o.out << o.err;
  EXPECT_NE(o.out.find("1 passed"), std::string::npos) << o.out;
}

TEST_P(PythonStack, TorchImportsAndComputes) {
  auto o = python("import torch\nprint(int(torch.arange(4).sum()))\n");
  EXPECT_EQ(o.result["verdict"], "ok") << o.err;
  EXPECT_EQ(o.out, "6\n");
}

TEST_P(PythonStack, TorchDistributedGlooOverLoopback) {
  const char* code = R"(
import os, datetime, torch, torch.distributed as dist, torch.multiprocessing as mp
def work(rank):
    dist.init_process_group('gloo', init_method='tcp://127.0.0.1:29533', rank=rank, world_size=2,
                            timeout=datetime.timedelta(seconds=30))
    t = torch.tensor([rank + 1.0])
    dist.all_reduce(t)
    if rank == 0: print(int(t.item()), flush=True)
    dist.destroy_process_group()
if __name__ == '__main__':
    mp.spawn(work, nprocs=2)
)";
  auto o = python(code, {"--network", "loopback"});
  EXPECT_EQ(o.result["verdict"], "ok") << o.err;
  EXPECT_EQ(o.out, "3\n");
}

INSTANTIATE_TEST_SUITE_P(All, PythonStack, ::testing::Values(Who::Root, Who::Unprivileged),
                         [](const auto& info) {
                           return info.param == Who::Root ? "Root" : "Unprivileged";
                         });

// Plain programs in the box: its devices, its CPUs, and what is left once the run is over.
class Box : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::Root && geteuid() != 0) GTEST_SKIP() << "root mode needs root";
  }
  harness::Outcome sh(const std::string& script) {
    return harness::run_sandbox(GetParam(), {}, {"/bin/sh", "-c", script});
  }
};

// As root the five device nodes are made with mknod, in a user namespace the host's are bound.
TEST_P(Box, DeviceNodesWork) {
  auto o =
      sh("echo x > /dev/null && head -c 8 /dev/urandom | wc -c && head -c 4 /dev/zero | wc -c; "
         "(echo x > /dev/full) 2>/dev/null || echo full; stat -c %A /dev/null; "
         "touch /dev/new 2>/dev/null || echo read-only");
  EXPECT_EQ(o.result.value("verdict", ""), "ok") << o.err;
  EXPECT_EQ(o.out, "8\n4\nfull\ncrw-rw-rw-\nread-only\n");
}

// Init starts on another CPU than the supervisor's; the program must get the whole set back.
TEST_P(Box, ProgramMayUseAllOfOurCpus) {
  std::string ours;
  std::istringstream status(harness::read_text("/proc/self/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Cpus_allowed_list:", 0) == 0) ours = line;
  ASSERT_FALSE(ours.empty());
  auto o = sh("grep Cpus_allowed_list /proc/self/status");
  EXPECT_EQ(o.result.value("verdict", ""), "ok") << o.err;
  EXPECT_EQ(o.out, ours + "\n");
}

// The supervisor returns once the cgroup is empty, without waiting for init to finish dying
// first; by the time it exits, the cgroup is removed and init reaped all the same.
TEST_P(Box, NothingIsLeftBehind) {
  auto o = sh("sleep 47.25 & exit 0");
  EXPECT_EQ(o.result.value("verdict", ""), "ok") << o.err;
  EXPECT_EQ(harness::count_processes("sleep 47.25"), 0);
  const std::string prefix = "grader-sandbox-" + std::to_string(o.pid) + "-";
  // Our own cgroups (the supervisor was our child) per hierarchy, from /proc/self/cgroup.
  std::map<std::string, std::string> own;
  std::istringstream cgroups(harness::read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(cgroups, line);) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::istringstream list(line.substr(a + 1, b - a - 1));
    for (std::string c; std::getline(list, c, ',');) own[c] = line.substr(b + 1);
    if (line.compare(0, 3, "0::") == 0) own[""] = line.substr(b + 1);
  }
  int looked = 0;
  for (const auto& m : sandbox::cgroup_mounts_from_mountinfo()) {
    std::string key;
    for (const char* c : {"memory", "pids", "cpuacct"})
      if (m.controllers.count(c)) key = c;
    if (!m.v2 && key.empty()) continue;
    fs::path dir = fs::path(m.point) / fs::path(own[key]).relative_path();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      EXPECT_NE(e.path().filename().string().rfind(prefix, 0), 0u) << "left behind: " << e.path();
    }
    ++looked;
  }
  EXPECT_GT(looked, 0);
  // An init the supervisor had not reaped would now be an orphan of the host's PID 1.
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = harness::read_text(e.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || stat.find("(grader-sandbox)") == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    EXPECT_NE(ppid, 1) << "orphaned grader-sandbox process " << name;
  }
}

INSTANTIATE_TEST_SUITE_P(All, Box, ::testing::Values(Who::Root, Who::Unprivileged),
                         [](const auto& info) {
                           return info.param == Who::Root ? "Root" : "Unprivileged";
                         });

// Usage errors and policy files.
TEST(SandboxCli, BadUsageExitsTwo) {
  auto o = harness::run_sandbox(Who::Root, {"--memory", "lots"}, {"/bin/true"});
  EXPECT_EQ(o.exit_status, 2);
}

TEST(SandboxCli, MissingProgramIsSandboxError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto o = harness::run_sandbox(Who::Root, {}, {"/no/such/program"});
  EXPECT_EQ(o.exit_status, 1);
  EXPECT_EQ(o.result["verdict"], "sandbox_error");
  EXPECT_NE(o.result["error"].get<std::string>().find("/no/such/program"), std::string::npos);
}

}  // namespace

namespace {
// Writing the result atomically must never rename over a device (it once replaced /dev/null).
TEST(SandboxCli, ResultToDevNullKeepsTheDevice) {
  std::string cmd = std::string(BUILD_DIR) + "/bin/grader-sandbox --result /dev/null -- /bin/true";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  struct stat st {};
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}
}  // namespace

namespace {
// Without a delegated cgroup an unprivileged run still happens, says so and warns once;
// --strict refuses instead.
TEST(SandboxCli, StrictRefusesWhatCannotBeEnforced) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become an unprivileged user";
  auto weak = harness::run_sandbox(harness::Who::Unprivileged, {}, {"/bin/true"});
  ASSERT_EQ(weak.exit_status, 0);
  EXPECT_EQ(weak.result["verdict"], "ok");
  EXPECT_EQ(weak.result["enforced"]["memory"], "rlimit (per process, RLIMIT_DATA)");
  EXPECT_FALSE(weak.result["warnings"].empty());
  auto strict = harness::run_sandbox(harness::Who::Unprivileged, {"--strict"}, {"/bin/true"});
  EXPECT_EQ(strict.exit_status, 1);
  EXPECT_EQ(strict.result["verdict"], "sandbox_error");
  EXPECT_NE(strict.result["error"].get<std::string>().find("--strict"), std::string::npos);
}
}  // namespace

namespace {
// A policy file alone says everything: the program, its binds and its limits.
TEST(SandboxCli, PolicyFileAlone) {
  fs::path dir = harness::fresh_dir("policy-alone");
  std::ofstream(dir / "policy.json")
      << R"({"argv": ["/bin/sh", "-c", "echo from-policy"], "cpu_time": 2})";
  fs::path result = dir / "result.json";
  std::string cmd = std::string(BUILD_DIR) + "/bin/grader-sandbox --policy " +
                    (dir / "policy.json").string() + " --result " + result.string() + " --stdout " +
                    (dir / "out").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto r = nlohmann::json::parse(harness::read_text(result));
  EXPECT_EQ(r["verdict"], "ok");
  EXPECT_EQ(harness::read_text(dir / "out"), "from-policy\n");
  fs::remove_all(dir);
}
}  // namespace

// Without namespaces (a container that allows none) box paths in argv and env are rewritten to
// the host paths the binds name.
namespace {
TEST(SandboxUnit, HostPathRewritesBoxPaths) {
  sandbox::Policy p;
  p.binds = {{"/x/grader", "/grader", false},
             {"/x/work", "/work", true},
             {"/x/work-sub", "/work/sub", false}};
  EXPECT_EQ(sandbox::host_path(p, "/work/a.py"), "/x/work/a.py");
  EXPECT_EQ(sandbox::host_path(p, "/work/sub/b.py"), "/x/work-sub/b.py");  // longest bind wins
  EXPECT_EQ(sandbox::host_path(p, "--rootdir=/grader"), "--rootdir=/x/grader");
  EXPECT_EQ(sandbox::host_path(p, "/work:/grader"), "/x/work:/x/grader");
  EXPECT_EQ(sandbox::host_path(p, "/usr/bin/python3"), "/usr/bin/python3");
  EXPECT_EQ(sandbox::host_path(p, "/workshop"), "/workshop");
}
}  // namespace

// cgroup v2: the program is born inside the run's cgroup (clone3 with CLONE_INTO_CGROUP), so no
// process is ever moved (a move takes a global kernel lock: 7.5 ms here). This host is cgroup
// v1 hybrid, so the test uses its controller-less cgroup2 mount, which is enough for the clone.
namespace {
TEST(SandboxUnit, ForkIntoCgroupStartsTheChildInside) {
  if (geteuid() != 0) GTEST_SKIP() << "creating a cgroup needs root here";
  std::string mount;
  std::ifstream mounts("/proc/self/mounts");
  for (std::string dev, point, type, rest;
       mounts >> dev >> point >> type && std::getline(mounts, rest);)
    if (type == "cgroup2") mount = point;
  if (mount.empty()) GTEST_SKIP() << "no cgroup2 mount on this host";
  // Where our own process sits in the v2 tree (hybrid hosts: usually "/").
  std::string own;
  std::ifstream self("/proc/self/cgroup");
  for (std::string line; std::getline(self, line);)
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  const std::string name = "grader-test-" + std::to_string(getpid());
  const std::string dir = mount + (own == "/" ? "" : own) + "/" + name;
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir << ": " << std::strerror(errno);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  pid_t pid = sandbox::fork_into_cgroup(fd);
  if (pid == 0) {
    // The child: is "0::" of /proc/self/cgroup our folder?
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("0::", 0) == 0 && line.size() > name.size() &&
          line.compare(line.size() - name.size(), name.size(), name) == 0)
        _exit(0);
    _exit(3);
  }
  ASSERT_GT(pid, 0) << "clone3: " << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_EQ(rmdir(dir.c_str()), 0) << std::strerror(errno);
}
}  // namespace

// The usual cgroup layout, found with a few statfs calls, must name the same hierarchies as
// /proc/self/mountinfo, which the sandbox reads where the layout is not the usual one.
TEST(SandboxUnit, UsualCgroupLayoutAgreesWithMountinfo) {
  const auto usual = sandbox::usual_cgroup_mounts();
  const auto all = sandbox::cgroup_mounts_from_mountinfo();
  if (usual.empty()) GTEST_SKIP() << "not the usual layout here: mountinfo alone is used";
  for (const auto& u : usual) {
    bool found = false;
    for (const auto& m : all) {
      if (fs::canonical(m.point) != fs::canonical(u.point) || m.v2 != u.v2) continue;
      found = true;
      for (const auto& c : u.controllers)
        EXPECT_TRUE(m.controllers.count(c)) << u.point << " " << c;
    }
    EXPECT_TRUE(found) << u.point << " is not a cgroup mount in mountinfo";
  }
  // And nothing the sandbox uses is missed.
  for (const char* c : {"memory", "pids", "cpuacct"}) {
    bool in_all = false, in_usual = false;
    for (const auto& m : all) in_all = in_all || m.controllers.count(c);
    for (const auto& u : usual) in_usual = in_usual || u.controllers.count(c);
    EXPECT_EQ(in_all, in_usual) << c;
  }
}
