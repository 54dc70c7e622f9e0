// Gradescope settings: the course's choice for hidden tests in the manifest, and the warning
// when run_autograder's time budget is below what an assignment may need.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include "grader/course/gradescope.h"
#include "grader/engine/manifest.h"

namespace fs = std::filesystem;

namespace {

const fs::path kFixture = fs::path(SOURCE_DIR) / "tests/fixtures/mini";

// A copy of the mini fixture (as a folder named mini) with `extra` appended to its manifest.
fs::path mini_with(const std::string& extra) {
  char pattern[] = "/tmp/grader-gs-XXXXXX";
  fs::path dir = fs::path(mkdtemp(pattern)) / "mini";
  fs::copy(kFixture, dir, fs::copy_options::recursive);
  std::ofstream(dir / "assignment.toml", std::ios::app) << extra;
  return dir;
}

TEST(GradescopeSettings, HiddenVisibilityIsTheCoursesChoiceWithASafeDefault) {
  EXPECT_EQ(grader::load_manifest(kFixture).gradescope_hidden_visibility, "after_published");
  fs::path ok = mini_with("\n[gradescope]\nhidden_visibility = \"after_due_date\"\n");
  EXPECT_EQ(grader::load_manifest(ok).gradescope_hidden_visibility, "after_due_date");
  fs::path bad = mini_with("\n[gradescope]\nhidden_visibility = \"hidden\"\n");
  try {
    grader::load_manifest(bad);
    ADD_FAILURE() << "\"hidden\" with points must be refused";
  } catch (const grader::ManifestError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("assignment.toml:"), std::string::npos) << what;
    EXPECT_NE(what.find("gradescope.hidden_visibility"), std::string::npos) << what;
  }
  fs::remove_all(ok.parent_path());
  fs::remove_all(bad.parent_path());
}

TEST(GradescopeSettings, ATimeoutBelowTheWorstCaseIsWarnedAbout) {
  const double worst = grader::gradescope::worst_case_seconds(grader::load_manifest(kFixture));
  EXPECT_GT(worst, 100.0);  // mini: 20 s wall per run, a perf test of 3 pairs among them
  char pattern[] = "/tmp/grader-gs-zip-XXXXXX";
  fs::path dir = mkdtemp(pattern);
  auto package = [&](int timeout) {
    std::string cmd = std::string(BUILD_DIR) + "/bin/grader gradescope " + kFixture.string() +
                      " --out " + (dir / "a.zip").string() + " --timeout " +
                      std::to_string(timeout) + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    pclose(p);
    return out;
  };
  EXPECT_NE(package(60).find("warning: --timeout 60 s is below"), std::string::npos);
  EXPECT_EQ(package(3600).find("warning"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
