// What a TA porting an assignment runs before any grading: grader validate, grader new, and
// grader variant open/save to edit a planted-bug variant or a sample as a folder.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>

#include "grader/box/remove_tree.h"
#include "grader/cli/cli.h"
#include "grader/course/gradescope.h"
#include "grader/course/variants.h"
#include "grader/engine/manifest.h"
#include "reports/atomic.h"

namespace grader::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The variants' scores outside 0..points, and every variant and sample whose patch no
// longer applies to solution/ (each is opened into a scratch folder, then removed).
std::vector<std::string> variant_problems(const Manifest& m, bool open_patches) {
  std::vector<std::string> problems;
  std::vector<Variant> all = list_variants(m.dir);
  for (const Variant& v : all)
    if (v.score < 0 || v.score > m.points)
      problems.push_back(fmt::format("{}: [{}] score {} is outside 0..{}",
                                     (m.dir / "variants/expected.toml").string(), v.name, v.score,
                                     m.points));
  if (!open_patches) return problems;
  for (Variant& v : list_samples(m.dir)) all.push_back(std::move(v));
  std::string pattern = (fs::temp_directory_path() / "grader-validate-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
  const fs::path scratch = pattern;
  for (size_t n = 0; n < all.size(); ++n) {
    try {
      open_variant(m.dir, all[n].patch, scratch / std::to_string(n));
    } catch (const InputError& e) {
      problems.push_back(e.what());
    }
  }
  if (std::string error = remove_tree(scratch); !error.empty())
    problems.push_back("cannot remove the scratch folder " + error);
  return problems;
}

// Problems of an assignment folder that the manifest loader does not see: the folders selftest
// needs, the variants' scores and patches. Returns one line per problem.
std::vector<std::string> folder_problems(const Manifest& m) {
  std::vector<std::string> problems;
  std::error_code ec;
  const bool solution = fs::is_directory(m.dir / "solution", ec);
  if (!solution)
    problems.push_back(
        fmt::format("{}: no solution/ folder (selftest grades it: it must score "
                    "{} points)",
                    m.dir.string(), m.points));
  for (const auto& entry : fs::directory_iterator(m.dir / "variants", ec))
    if (entry.is_directory())
      problems.push_back(fmt::format(
          "{}: a folder; variants are patches (variants/<name>.patch: grader variant save)",
          entry.path().string()));
  try {
    for (std::string& p : variant_problems(m, solution)) problems.push_back(std::move(p));
  } catch (const InputError& e) {
    problems.push_back(e.what());
  }
  return problems;
}

// One line of facts a TA checks by eye: tests by visibility and trust, and the worst case.
std::string overview(const Manifest& m) {
  double shown = 0, self_reported = 0;
  for (const TestSpec& t : m.tests) {
    if (t.visibility == Visibility::Public) shown += t.points;
    if (trust_of(t) == Trust::SelfReported) self_reported += t.points;
  }
  const size_t variants = list_variants(m.dir).size();
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

// variants/NAME.patch, or samples/NAME.patch for "samples/NAME". Throws InputError for a
// NAME that is not a plain name.
fs::path patch_path(const fs::path& dir, const std::string& name) {
  static const std::regex kName("(samples/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(name, kName))
    throw InputError(
        fmt::format("'{}': name a variant (e.g. grad_overwrite) or samples/NAME", name));
  if (name.rfind("samples/", 0) == 0) return dir / (name + ".patch");
  return dir / "variants" / (name + ".patch");
}

// `grader variant open A NAME DIR`: NAME is a variant, samples/NAME, or "variants" or
// "samples" for every one of them, each into DIR/<name>.
int open_variants(const Context& ctx, const std::string& id, const std::string& name,
                  const fs::path& dest) {
  const fs::path dir = resolve_assignment(id);
  std::vector<std::pair<fs::path, fs::path>> opens;  // patch, folder
  if (name == "variants" || name == "samples") {
    for (const Variant& v : name == "variants" ? list_variants(dir) : list_samples(dir))
      opens.emplace_back(v.patch, dest / v.name);
    if (opens.empty()) throw InputError(fmt::format("{}: no {}", dir.string(), name));
  } else {
    const fs::path patch = patch_path(dir, name);
    std::error_code ec;
    if (!fs::is_regular_file(patch, ec))
      throw InputError(fmt::format("{}: missing (grader variant save makes it)", patch.string()));
    opens.emplace_back(patch, dest);
  }
  for (const auto& [patch, folder] : opens) open_variant(dir, patch, folder);
  if (ctx.verbosity >= 0)
    std::cout << fmt::format("opened {} {} into {}\n", opens.size(),
                             opens.size() == 1 ? "patch" : "patches", dest.string());
  return kExitGraded;
}

// TOML's float for a score: always with a decimal point.
std::string toml_float(double x) {
  std::string text = fmt::format("{}", x);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// `grader variant save A NAME DIR`: writes NAME's patch from DIR. A new variant also needs its
// score, appended to variants/expected.toml; an existing one keeps the score written there.
int save_variant(const Context& ctx, const std::string& id, const std::string& name,
                 const fs::path& folder, std::optional<double> score, const std::string& why) {
  const fs::path dir = resolve_assignment(id);
  const fs::path patch = patch_path(dir, name);
  const bool sample = name.rfind("samples/", 0) == 0;
  bool listed = false;
  if (!sample)
    for (const Variant& v : list_variants(dir)) listed |= v.name == name;
  if (sample && score) throw InputError("--score: a sample has no expected score");
  if (!sample && !listed && !score)
    throw InputError(fmt::format("{} is a new variant: give its --score (and --why)", name));
  if (listed && score)
    throw InputError(fmt::format("--score: {} has one in {}; change it there", name,
                                 (dir / "variants/expected.toml").string()));
  const std::string text = make_variant_patch(dir, folder);
  reports::write_file_atomic(patch, text);
  if (!sample && !listed) {
    const fs::path expected = dir / "variants/expected.toml";
    std::ostringstream entry;
    entry << "\n[" << name << "]\nscore = " << toml_float(*score)
          << "\nwhy = " << toml::value<std::string>(why) << "\n";
    std::ofstream out(expected, std::ios::app);
    out << entry.str();
    if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", expected.string()));
  }
  if (ctx.verbosity >= 0)
    std::cout << fmt::format("wrote {} ({} lines){}\n", patch.string(),
                             std::count(text.begin(), text.end(), '\n'),
                             listed || sample ? "" : "; its score is in variants/expected.toml");
  return kExitGraded;
}

void add_variant_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "variant", "Open a planted-bug variant or a sample as a folder, or save one as a patch");
  cmd->require_subcommand(1);
  struct Options {
    std::string assignment, name, folder, why;
    std::optional<double> score;
  };
  auto o = std::make_shared<Options>();
  auto* open = cmd->add_subcommand(
      "open", "Write solution/ with NAME's patch applied into FOLDER (a new folder)");
  auto* save = cmd->add_subcommand("save", "Write NAME's patch (against solution/) from FOLDER");
  for (auto* sub : {open, save}) {
    sub->add_option("assignment", o->assignment, "Assignment id or folder")->required();
    sub->add_option("name", o->name,
                    "Variant name, samples/NAME, or (open) variants or samples for all")
        ->required();
    sub->add_option("folder", o->folder, "The folder")->required();
  }
  save->add_option("--score", o->score, "A new variant's expected score (selftest checks it)");
  save->add_option("--why", o->why, "A new variant's reason for that score");
  open->callback([&ctx, o] {
    guarded(ctx, "variant open",
            [&] { return open_variants(ctx, o->assignment, o->name, o->folder); });
  });
  save->callback([&ctx, o] {
    guarded(ctx, "variant save",
            [&] { return save_variant(ctx, o->assignment, o->name, o->folder, o->score, o->why); });
  });
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
  add_variant_command(app, ctx);
}

}  // namespace grader::cli
