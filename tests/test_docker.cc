// docker/: builds the grading image for real with podman (debootstrap base, podman import,
// podman build with the grader built here), then in it: the README's pre-check line on an
// assignment's starter code, the Gradescope entry point on an /autograder layout (graded, late,
// and "could not be graded" when the grader fails), and the container check's advice.
// Skipped, with the reason, only where podman (or docker) cannot run a container at all.
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs a bash command line in the source tree with the container engine set up
// (docker/engine.sh: $engine, CONTAINERS_CONF on hosts that need it).
Result sh(const std::string& command) {
  const std::string line =
      "cd '" SOURCE_DIR "' && source docker/engine.sh && { " + command + "\n} 2>&1";
  const std::string quoted = "bash -c '" + std::regex_replace(line, std::regex("'"), "'\\''") + "'";
  Result result;
  FILE* pipe = popen(quoted.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pre-check line of docker/README.md: the line in its "```sh" block that starts with
// "docker run".
std::string readme_precheck_line() {
  std::istringstream readme(read_file(SOURCE_DIR "/docker/README.md"));
  std::string line;
  while (std::getline(readme, line))
    if (line.rfind("docker run", 0) == 0) return line;
  return "";
}

class DockerImage : public ::testing::Test {
 protected:
  static inline std::string skip_reason;
  static inline std::string build_failure;
  static inline const std::string kImage = "localhost/grader-test:latest";
  static inline const std::string kStudentImage = "localhost/grader-student-test:latest";

  static void SetUpTestSuite() {
    Result probe =
        sh("\"$engine\" run --rm --network=none localhost/grader-base:bookworm true "
           "2>/dev/null || \"$engine\" info >/dev/null");
    if (probe.status != 0) {
      skip_reason = "no container engine can run here (podman/docker info failed): " +
                    probe.output.substr(0, 300);
      return;
    }
    // The programs of this build tree go into the image (no second compile): build-image.sh
    // installs them into a folder of the build context, wherever the build tree lies.
    const std::string prebuilt = " --prebuilt '" + fs::weakly_canonical(BUILD_DIR).string() + "'";
    for (const auto& [target, tag] :
         {std::pair{"grader", kImage}, std::pair{"student", kStudentImage}}) {
      const auto start = std::chrono::steady_clock::now();
      Result build =
          sh("docker/build-image.sh --target " + std::string(target) + " --tag " + tag + prebuilt);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("[ image    ] %s built in %.1f s\n", tag.c_str(), seconds);
      if (build.status != 0) {
        build_failure =
            "docker/build-image.sh --target " + std::string(target) + " failed:\n" +
            build.output.substr(build.output.size() > 4000 ? build.output.size() - 4000 : 0);
        return;
      }
    }
    Result size = sh("\"$engine\" image inspect --format '{{.Size}}' " + kImage);
    std::printf("[ image    ] %s: %s bytes\n", kImage.c_str(), size.output.c_str());
  }

  void SetUp() override {
    if (!skip_reason.empty()) GTEST_SKIP() << skip_reason;
    ASSERT_TRUE(build_failure.empty()) << build_failure;
    char pattern[] = "/tmp/grader-docker-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    scratch = pattern;
  }

  void TearDown() override {
    // Files written by the container as root; the test runs as root here too.
    std::error_code ec;
    if (!scratch.empty()) fs::remove_all(scratch, ec);
  }

  // Writes an /autograder layout for `grader gradescope`'s zip (made by the grader built
  // here), a submission copied from the assignment and submission metadata.
  void make_autograder_layout(const std::string& assignment, const std::string& submission,
                              const std::string& created_at) {
    fs::create_directories(scratch / "in");
    Result zip = sh("'" BUILD_DIR "/bin/grader' gradescope " + assignment + " --out '" +
                    (scratch / "in/autograder.zip").string() + "'");
    ASSERT_EQ(zip.status, 0) << zip.output;
    fs::copy(fs::path(SOURCE_DIR) / "assignments" / assignment / submission,
             scratch / "in/submission", fs::copy_options::recursive);
    std::ofstream(scratch / "in/submission_metadata.json") << json{
        {"id", 4242},
        {"created_at", created_at},
        {"assignment", {{"due_date", "2026-10-02T23:59:00.000000-04:00"}, {"title", assignment}}},
        {"users", json::array({json{{"email", "student@example.edu"},
                                    {"name", "Student"}}})}}.dump();
  }

  // Inside the image: unpack the zip like Gradescope, run setup.sh, then `prepare` (to break
  // things), then run_autograder. Results land in scratch/in/results.json.
  Result run_gradescope(const std::string& prepare = "true") {
    const std::string script =
        "set -e; mkdir -p /autograder/source /autograder/results; "
        "python3 -m zipfile -e /in/autograder.zip /autograder/source; "
        "cp -r /in/submission /autograder/submission; "
        "cp /in/submission_metadata.json /autograder/; "
        "bash /autograder/source/setup.sh >/dev/null; "
        "cp /autograder/source/run_autograder /autograder/run_autograder; " +
        prepare +
        "; set +e; /autograder/run_autograder; status=$?; "
        "cp /autograder/results/results.json /in/results.json; exit $status";
    return sh("\"$engine\" run --rm -v '" + (scratch / "in").string() + ":/in' --entrypoint bash " +
              kImage + " -c '" + script + "'");
  }

  fs::path scratch;
};

TEST_F(DockerImage, ReadmePrecheckLineGradesStarterCodeWithPublicTestsOnly) {
  std::string line = readme_precheck_line();
  ASSERT_FALSE(line.empty()) << "docker/README.md has no line starting with 'docker run'";
  ASSERT_NE(line.find("grader-student"), std::string::npos) << line;
  // As a student types it, in the folder of their work (here: the starter code of a1), with
  // docker being podman and the image the one built above.
  line = std::regex_replace(line, std::regex("\\bgrader-student\\b"), kStudentImage);
  fs::copy(SOURCE_DIR "/assignments/a1/handout", scratch / "a1", fs::copy_options::recursive);
  Result check =
      sh("docker() { \"$engine\" \"$@\"; }; cd '" + (scratch / "a1").string() + "' && " + line);
  EXPECT_NE(check.status, 2) << check.output;  // not a usage error
  EXPECT_NE(check.status, 3) << check.output;  // not ungradable
  EXPECT_NE(check.output.find("Public tests"), std::string::npos) << check.output;
  EXPECT_EQ(check.output.find("agree with torch.autograd"), std::string::npos)
      << "a pre-check must not run or list hidden tests:\n"
      << check.output;

  // The student image holds no hidden test content.
  Result hidden = sh("\"$engine\" run --rm --entrypoint bash " + kStudentImage +
                     " -c 'find /opt/grader/assignments -path \"*hidden*\" -type f -size +0 | "
                     "head; ls /opt/grader/assignments/a1'");
  EXPECT_EQ(hidden.output.find("hidden/"), std::string::npos) << hidden.output;
  EXPECT_EQ(hidden.output.find("solution"), std::string::npos) << hidden.output;
}

// Uid 65534 ("nobody", the box's user) with 200 threads on the host, for as long as it lives.
// Rootful podman shares the host's uids: a per-uid limit in the container's boxes would count
// these (it once made a box fail to exec while the host ran boxes of its own).
class HostNobodyThreads {
 public:
  HostNobodyThreads() {
    pid_ = fork();
    if (pid_ == 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
          setresuid(65534, 65534, 65534) != 0)
        _exit(1);
      execl("/usr/bin/python3", "python3", "-c",
            "import threading, time\n"
            "for _ in range(200): threading.Thread(target=time.sleep, args=(600,), "
            "daemon=True).start()\n"
            "time.sleep(600)\n",
            nullptr);
      _exit(1);
    }
  }
  ~HostNobodyThreads() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

TEST_F(DockerImage, GradescopeEntryPointWritesResultsFromMetadata) {
  HostNobodyThreads crowd;
  make_autograder_layout("a1", "solution", "2026-10-02T20:00:00.000000-04:00");
  Result run = run_gradescope();
  EXPECT_EQ(run.status, 0) << run.output;
  json results = json::parse(read_file(scratch / "in/results.json"), nullptr, false);
  ASSERT_TRUE(results.is_object()) << read_file(scratch / "in/results.json");
  ASSERT_TRUE(results.contains("score")) << results.dump(2);
  EXPECT_DOUBLE_EQ(results["score"].get<double>(), 100.0) << results.dump(2);
  ASSERT_TRUE(results["tests"].is_array());
  ASSERT_FALSE(results["tests"].empty());
  for (const json& test : results["tests"]) {
    for (const char* key : {"name", "score", "max_score", "status", "visibility"})
      EXPECT_TRUE(test.contains(key)) << key << " missing in " << test.dump();
  }
  EXPECT_TRUE(results.contains("execution_time"));
  EXPECT_TRUE(results["output"].is_string());

  // Submitted 1.5 days after the due date: two started days at 10% each.
  std::error_code ec;
  fs::remove_all(scratch / "in", ec);
  make_autograder_layout("a1", "solution", "2026-10-04T11:59:00.000000-04:00");
  run = run_gradescope();
  results = json::parse(read_file(scratch / "in/results.json"), nullptr, false);
  ASSERT_TRUE(results.is_object() && results.contains("score")) << run.output;
  EXPECT_DOUBLE_EQ(results["score"].get<double>(), 80.0) << results.dump(2);
}

TEST_F(DockerImage, GradescopeSaysCouldNotBeGradedWhenTheGraderFails) {
  make_autograder_layout("a1", "solution", "2026-10-02T20:00:00Z");
  // The grader crashes, and python (the JSON check) is gone too: the bash fallback must
  // still write valid JSON with no score.
  Result run = run_gradescope(
      "printf \"#!/bin/sh\\nkill -SEGV \\$\\$\\n\" > /autograder/source/bin/grader; "
      "mv /usr/bin/python3 /usr/bin/python3.gone");
  EXPECT_EQ(run.status, 1) << run.output;
  const std::string text = read_file(scratch / "in/results.json");
  json results = json::parse(text, nullptr, false);
  ASSERT_TRUE(results.is_object()) << "not valid JSON:\n" << text;
  EXPECT_FALSE(results.contains("score")) << "an ungradable run must not record a score:\n" << text;
  EXPECT_EQ(results["extra_data"]["status"], "ungradable") << text;
  EXPECT_NE(results["output"].get<std::string>().find("could not be graded"), std::string::npos);
  EXPECT_TRUE(results["tests"].is_array() && results["tests"].empty()) << text;

  // The grader program is missing altogether.
  run = run_gradescope("rm /autograder/source/bin/grader");
  EXPECT_EQ(run.status, 1) << run.output;
  results = json::parse(read_file(scratch / "in/results.json"), nullptr, false);
  ASSERT_TRUE(results.is_object()) << run.output;
  EXPECT_FALSE(results.contains("score"));
  EXPECT_EQ(results["extra_data"]["status"], "ungradable");
}

TEST_F(DockerImage, ContainerCheckNamesTheOptionsThatWork) {
  // Default options: the sandbox cannot mount a fresh /proc, cgroups are read-only.
  Result plain = sh("\"$engine\" run --rm " + kImage + " container-check --json");
  ASSERT_EQ(plain.status, 0) << plain.output;
  json before = json::parse(plain.output, nullptr, false);
  ASSERT_TRUE(before.is_object()) << plain.output;
  EXPECT_NE(before["container"], "");
  std::string advice = before["advice"];
  ASSERT_FALSE(advice.empty()) << plain.output;

  // The options the advice names, as a user would copy them, give the sandbox everything.
  std::smatch options;
  ASSERT_TRUE(std::regex_search(advice, options, std::regex("add to the run command: ([^\\n]*)")))
      << advice;
  Result fixed =
      sh("\"$engine\" run --rm " + options[1].str() + " " + kImage + " container-check --json");
  ASSERT_EQ(fixed.status, 0) << fixed.output;
  json after = json::parse(fixed.output, nullptr, false);
  ASSERT_TRUE(after.is_object()) << fixed.output;
  EXPECT_TRUE(after["user_namespace"].get<bool>()) << fixed.output;
  EXPECT_TRUE(after["proc_mount"].get<bool>()) << fixed.output;
  EXPECT_TRUE(after["network_namespace"].get<bool>()) << fixed.output;
  EXPECT_TRUE(after["hostname"].get<bool>()) << fixed.output;
  EXPECT_TRUE(after["cgroup"] == "v1" || after["cgroup"] == "v2") << fixed.output;
  EXPECT_EQ(after["advice"], "") << fixed.output;

  // And the sandbox itself, run with those options, sets up a box and enforces memory with
  // a cgroup.
  Result box = sh("\"$engine\" run --rm " + options[1].str() + " --entrypoint grader-sandbox " +
                  kImage + " --memory 256M --cpu-time 5 -- /usr/bin/python3 -c pass 2>/dev/null");
  json result = json::parse(box.output, nullptr, false);
  ASSERT_TRUE(result.is_object()) << box.output;
  EXPECT_EQ(result["verdict"], "ok") << box.output;
  EXPECT_NE(result["enforced"].value("memory", "").find("cgroup"), std::string::npos) << box.output;
}

}  // namespace
