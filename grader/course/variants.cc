#include "grader/course/variants.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "grader/box/remove_tree.h"
#include "grader/course/patch.h"
#include "grader/engine/engine.h"
#include "grader/engine/intake.h"

namespace grader {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Each *.patch of `folder` by its name without ".patch".
std::map<std::string, fs::path> patches_in(const fs::path& folder) {
  std::map<std::string, fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".patch") continue;
    if (!entry.is_regular_file())
      throw InputError(fmt::format("{}: not a regular file", entry.path().string()));
    found[entry.path().stem().string()] = entry.path();
  }
  return found;
}

// The regular files under `root` by relative path, for diffing.
std::map<std::string, std::string> text_files(const fs::path& root) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == "__pycache__" || name == ".pytest_cache")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
    if (!it->is_regular_file(ec) || it->is_symlink(ec))
      throw InputError(fmt::format("{}: not a regular file (a variant holds text files only)",
                                   it->path().string()));
    std::optional<std::string> text = read_text(it->path());
    if (!text) throw InputError(fmt::format("{}: cannot read it", it->path().string()));
    if (text->find('\0') != std::string::npos)
      throw InputError(fmt::format("{}: not a text file (a variant holds text files only)",
                                   it->path().string()));
    files[fs::relative(it->path(), root).generic_string()] = std::move(*text);
  }
  if (ec) throw InputError(fmt::format("{}: {}", root.string(), ec.message()));
  return files;
}

// Applies every file's change of `patch_file` to the copy of the solution in `dest`.
void apply_patch_file(const fs::path& patch_file, const fs::path& dest) {
  std::optional<std::string> text = read_text(patch_file);
  if (!text) throw InputError(fmt::format("{}: cannot read it", patch_file.string()));
  try {
    for (const patch::FileDiff& change : patch::parse(*text)) {
      const fs::path file = dest / change.path();
      std::optional<std::string> after = patch::apply(change, read_text(file));
      if (!after) {
        fs::remove(file);
        continue;
      }
      fs::create_directories(file.parent_path());
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << *after;
      if (!out.flush()) throw std::runtime_error(fmt::format("cannot write {}", file.string()));
    }
  } catch (const patch::PatchError& e) {
    throw InputError(fmt::format("{}: {}", patch_file.string(), e.what()));
  }
}

}  // namespace

std::vector<Variant> list_variants(const fs::path& assignment_dir) {
  const fs::path dir = assignment_dir / "variants";
  std::map<std::string, fs::path> patches = patches_in(dir);
  const fs::path file = dir / "expected.toml";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (!patches.empty())
      throw InputError(
          fmt::format("{}: missing (each variant's score = N, why = \"...\")", file.string()));
    return {};
  }
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(
        fmt::format("{}:{}: {}", file.string(), e.source().begin.line, e.description()));
  }
  std::vector<Variant> variants;
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const toml::table* entry = node.as_table();
    const std::optional<double> score = entry ? (*entry)["score"].value<double>() : std::nullopt;
    if (!score)
      throw InputError(fmt::format("{}: [{}] score: missing or not a number", file.string(), name));
    auto patch = patches.find(name);
    if (patch == patches.end())
      throw InputError(
          fmt::format("{}: [{}] has no {}.patch beside it", file.string(), name, name));
    variants.push_back({name, patch->second, *score, (*entry)["why"].value_or(std::string())});
    patches.erase(patch);
  }
  if (!patches.empty())
    throw InputError(fmt::format("{}: no [{}] in {} (its score = N, why = \"...\")",
                                 patches.begin()->second.string(), patches.begin()->first,
                                 file.string()));
  std::sort(variants.begin(), variants.end(),
            [](const Variant& x, const Variant& y) { return x.name < y.name; });
  return variants;
}

std::vector<Variant> list_samples(const fs::path& assignment_dir) {
  std::vector<Variant> samples;
  for (const auto& [name, file] : patches_in(assignment_dir / "samples"))
    samples.push_back({name, file, 0, ""});
  return samples;
}

void open_variant(const fs::path& assignment_dir, const fs::path& patch_file,
                  const fs::path& dest) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest, ec)))
    throw InputError(
        fmt::format("{}: already exists (a variant opens into a new folder)", dest.string()));
  const fs::path solution = assignment_dir / "solution";
  if (!fs::is_directory(solution, ec))
    throw InputError(fmt::format("{}: no solution/ folder to apply {} to", assignment_dir.string(),
                                 patch_file.string()));
  fs::create_directories(dest.parent_path());
  try {
    copy_tree(solution, dest);
    apply_patch_file(patch_file, dest);
  } catch (...) {
    (void)remove_tree(dest);  // the patch's error is the one to report
    throw;
  }
}

std::string make_variant_patch(const fs::path& assignment_dir, const fs::path& folder) {
  const std::map<std::string, std::string> before = text_files(assignment_dir / "solution");
  const std::map<std::string, std::string> after = text_files(folder);
  std::map<std::string, std::pair<std::optional<std::string>, std::optional<std::string>>> both;
  for (const auto& [path, text] : before) both[path].first = text;
  for (const auto& [path, text] : after) both[path].second = text;
  std::string out;
  for (const auto& [path, sides] : both) {
    try {
      out += patch::diff(path, sides.first, sides.second);
    } catch (const patch::PatchError& e) {
      throw InputError(fmt::format("{}: {}", folder.string(), e.what()));
    }
  }
  return out;
}

}  // namespace grader
