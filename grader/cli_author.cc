// What a TA porting an assignment runs before any grading: grader validate, grader new.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>

#include "grader/cli.h"
#include "grader/gradescope.h"
#include "grader/manifest.h"

namespace grader::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Problems of an assignment folder that the manifest loader does not see: the folders selftest
// needs and each variant's expected.toml. Returns one line per problem.
std::vector<std::string> folder_problems(const Manifest& m) {
  std::vector<std::string> problems;
  std::error_code ec;
  if (!fs::is_directory(m.dir / "solution", ec))
    problems.push_back(
        fmt::format("{}: no solution/ folder (selftest grades it: it must score "
                    "{} points)",
                    m.dir.string(), m.points));
  for (const auto& entry : fs::directory_iterator(m.dir / "variants", ec)) {
    if (!entry.is_directory()) continue;
    const fs::path file = entry.path() / "expected.toml";
    if (!fs::is_regular_file(file, ec)) {
      problems.push_back(
          fmt::format("{}: no expected.toml (score = N, why = \"...\")", entry.path().string()));
      continue;
    }
    try {
      const double score = load_expected(file)["score"].get<double>();
      if (score < 0 || score > m.points)
        problems.push_back(
            fmt::format("{}: score {} is outside 0..{}", file.string(), score, m.points));
    } catch (const InputError& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

// One line of facts a TA checks by eye: tests by visibility and trust, and the worst case.
std::string overview(const Manifest& m) {
  double shown = 0, self_reported = 0;
  int variants = 0;
  for (const TestSpec& t : m.tests) {
    if (t.visibility == "public") shown += t.points;
    if (trust_of(t) == "self_reported") self_reported += t.points;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m.dir / "variants", ec))
    variants += entry.is_directory();
  return fmt::format(
      "{} {}: {} tests, {} points ({} public), {} self_reported; {} variants; a grading takes "
      "at most {:.0f} s",
      m.id, m.version, m.tests.size(), m.points, shown, self_reported, variants,
      gradescope::worst_case_seconds(m));
}

int validate(const Context& ctx, const std::vector<std::string>& ids) {
  int bad = 0;
  for (const std::string& id : ids) {
    std::vector<std::string> problems;
    std::optional<Manifest> m;
    try {
      m = load_manifest(resolve_assignment(id));
      problems = folder_problems(*m);
    } catch (const InputError& e) {
      problems.push_back(e.what());
    }
    for (const std::string& p : problems) std::cerr << "error: " << p << "\n";
    if (!problems.empty()) {
      ++bad;
      continue;
    }
    if (ctx.verbosity >= 0) std::cout << overview(*m) << ": ok\n";
  }
  return bad ? kExitUsage : kExitGraded;
}

// Copies the bundled template to `dest`, with @ID@ replaced by the new assignment's id.
int make_assignment(const Context& ctx, const std::string& id, const fs::path& dest) {
  static const std::regex kId("[a-z][a-z0-9_-]{0,31}");
  if (!std::regex_match(id, kId))
    throw InputError(fmt::format(
        "assignment id '{}': use 1-32 lower-case letters, digits, '_' or '-', starting with a "
        "letter",
        id));
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest, ec)))
    throw InputError(
        fmt::format("{}: already exists (grader new never overwrites)", dest.string()));
  const fs::path source = fs::path(GRADER_SOURCE_DIR) / "templates" / "assignment";
  if (!fs::is_directory(source, ec))
    throw std::runtime_error(fmt::format("{}: the template is missing", source.string()));
  fs::create_directories(dest);
  for (auto it = fs::recursive_directory_iterator(source); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path to = dest / fs::relative(it->path(), source);
    if (it->is_directory()) {
      fs::create_directories(to);
      continue;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    for (size_t at; (at = body.find("@ID@")) != std::string::npos;) body.replace(at, 4, id);
    std::ofstream out(to, std::ios::binary);
    out << body;
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", to.string()));
  }
  if (ctx.verbosity >= 0)
    std::cout << fmt::format(
        "made {} (assignment {}); next: grader validate {} && grader selftest {}\n", dest.string(),
        id, dest.string(), dest.string());
  return kExitGraded;
}

}  // namespace

void add_author_commands(CLI::App& app, Context& ctx) {
  {
    auto* cmd = app.add_subcommand(
        "validate", "Check assignments' manifests, folders and variants without grading");
    auto ids = std::make_shared<std::vector<std::string>>();
    cmd->add_option("assignment", *ids, "Assignment ids or folders")->required();
    cmd->footer("Exit status: 0 every assignment is valid, 2 a problem (each one is named).");
    cmd->callback([&ctx, ids] { guarded(ctx, "validate", [&] { return validate(ctx, *ids); }); });
  }
  {
    auto* cmd = app.add_subcommand(
        "new", "Start an assignment from a working template (it passes grader selftest)");
    auto id = std::make_shared<std::string>();
    auto dest = std::make_shared<std::string>();
    cmd->add_option("id", *id, "The new assignment's id (e.g. a6)")->required();
    cmd->add_option("folder", *dest, "Folder to create (default: ./ID)");
    cmd->callback([&ctx, id, dest] {
      guarded(ctx, "new", [&] { return make_assignment(ctx, *id, dest->empty() ? *id : *dest); });
    });
  }
}

}  // namespace grader::cli
