// Batch grading: discovery of the three input formats, sharding, the worker pool, resume
// and the atomic per-student commit. See batch.h for the output layout.
#include "grader/course/batch.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <toml++/toml.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "grader/box/remove_tree.h"
#include "grader/box/sandbox_runner.h"
#include "grader/box/zygotes.h"
#include "grader/course/csv.h"
#include "grader/engine/intake.h"
#include "grader/engine/manifest.h"
#include "reports/atomic.h"
#include "reports/record.h"
#include "reports/score.h"
#include "reports/summary.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace grader::batch {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The student id of an archive entry: its name without the archive extension.
std::optional<std::string> archive_stem(const std::string& name) {
  for (const char* ext : {".tar.gz", ".tgz", ".zip", ".tar"}) {
    if (ends_with(name, ext) && name.size() > std::string(ext).size()) {
      return name.substr(0, name.size() - std::string(ext).size());
    }
  }
  return std::nullopt;
}

bool is_archive(const fs::path& p) { return archive_stem(p.filename().string()).has_value(); }

// Rules generous enough to unpack a whole class download; the per-student limits apply later.
IntakeRules unpack_rules() {
  IntakeRules rules;
  rules.max_bytes = 64ull << 30;
  rules.max_files = 10'000'000;
  return rules;
}

std::vector<fs::path> listed(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || name == "__MACOSX") continue;
    out.push_back(e.path());
  }
  if (ec)
    throw InputError(fmt::format("{}: cannot read the folder: {}", dir.string(), ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

// "2026-10-02 15:10:14.123456000 -07:00" (Gradescope, Ruby's Time#to_s) or RFC 3339 -> UTC
// RFC 3339; nullopt when unreadable.
std::optional<std::string> normalize_time(std::string text, std::string* problem) {
  if (text.size() > 64) {
    *problem = "longer than any date-time";
    return std::nullopt;
  }
  static const std::regex ruby(
      R"(^\s*([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?)\s*(Z|UTC|[+-][0-9]{2}:?[0-9]{2})\s*$)");
  std::smatch m;
  if (std::regex_match(text, m, ruby)) {
    std::string zone = m[4];
    if (zone == "UTC") zone = "Z";
    if (zone.size() == 5) zone = zone.substr(0, 3) + ":" + zone.substr(3);
    text = std::string(m[1]) + "T" + std::string(m[2]) + zone;
  }
  auto epoch = parse_rfc3339(text, problem);
  if (!epoch) return std::nullopt;
  return format_rfc3339(*epoch);
}

std::optional<fs::path> find_gradescope_metadata(const fs::path& root) {
  if (fs::is_regular_file(fs::symlink_status(root / "submission_metadata.yml"))) {
    return root / "submission_metadata.yml";
  }
  auto entries = listed(root);
  if (entries.size() == 1 && fs::is_directory(fs::symlink_status(entries[0])) &&
      fs::is_regular_file(fs::symlink_status(entries[0] / "submission_metadata.yml"))) {
    return entries[0] / "submission_metadata.yml";
  }
  return std::nullopt;
}

std::string yaml_string(const YAML::Node& node, const char* key) {
  if (!node.IsMap()) return {};
  YAML::Node value = node[key];
  if (!value || !value.IsScalar()) return {};
  return value.Scalar();
}

void add_entry(Discovery& d, Entry e, const std::string& where) {
  for (auto& other : d.entries) {
    if (other.student != e.student) continue;
    // Keep the later submission when both have times, else the first one found.
    bool later = e.submitted_at && other.submitted_at && *e.submitted_at > *other.submitted_at;
    d.warnings.push_back(fmt::format("{}: student '{}' appears twice; kept the {} one", where,
                                     e.student, later ? "later" : "first"));
    if (later) other = std::move(e);
    return;
  }
  d.entries.push_back(std::move(e));
}

void discover_gradescope(const fs::path& metadata, Discovery& d) {
  d.format = "gradescope";
  YAML::Node root;
  try {
    root = YAML::LoadFile(metadata.string());
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: {}", metadata.string(), e.mark.line + 1, e.msg));
  }
  if (!root.IsMap())
    throw InputError(
        fmt::format("{}: expected a mapping of submission folders", metadata.string()));
  fs::path dir = metadata.parent_path();
  // Anything yaml-cpp still throws on a strange document names the file and line.
  try {
    for (const auto& item : root) {
      if (!item.first.IsScalar()) {  // a list or a mapping as a key (found by fuzz/)
        d.warnings.push_back(fmt::format("{}:{}: ignored an entry whose key is not a folder name",
                                         metadata.string(), item.first.Mark().line + 1));
        continue;
      }
      std::string folder = item.first.Scalar();
      const YAML::Node& record = item.second;
      if (folder.empty() || folder.find('/') != std::string::npos || folder == "." ||
          folder == "..") {
        d.warnings.push_back(fmt::format("{}: ignored the entry '{}' (not a folder name)",
                                         metadata.string(), folder));
        continue;
      }
      fs::path source = dir / folder;
      auto st = fs::symlink_status(source);
      if (!fs::is_directory(st) && !(fs::is_regular_file(st) && is_archive(source))) {
        d.warnings.push_back(fmt::format("{}: '{}' is listed but missing from the export",
                                         metadata.string(), folder));
        continue;
      }
      std::optional<std::string> when;
      std::string created = yaml_string(record, ":created_at");
      if (!created.empty()) {
        std::string problem;
        when = normalize_time(created, &problem);
        if (!when)
          d.warnings.push_back(fmt::format("{}: {}: unreadable :created_at '{}': {}",
                                           metadata.string(), folder,
                                           reports::printable_text(created), problem));
      }
      YAML::Node submitters = record.IsMap() ? record[":submitters"] : YAML::Node();
      std::vector<std::pair<std::string, std::string>> people;  // id, name
      if (submitters && submitters.IsSequence()) {
        for (const auto& s : submitters) {
          std::string id = yaml_string(s, ":sid");
          if (id.empty()) id = yaml_string(s, ":email");
          people.emplace_back(id, yaml_string(s, ":name"));
        }
      }
      if (people.empty()) people.emplace_back(folder, "");
      // A group submission counts for every member.
      for (const auto& [raw_id, name] : people) {
        Entry e;
        e.student = safe_student_id(raw_id.empty() ? folder : raw_id);
        if (e.student.empty()) {
          d.warnings.push_back(
              fmt::format("{}: {}: no usable student id", metadata.string(), folder));
          continue;
        }
        e.source = source;
        e.name = name;
        e.submitted_at = when;
        e.submitted_at_source = when ? "metadata" : "none";
        add_entry(d, std::move(e), metadata.string());
      }
    }
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: {}", metadata.string(), e.mark.line + 1, e.msg));
  }
}

// Canvas bulk download: login[_LATE]_userid_submissionid_name.ext
const std::regex& canvas_pattern() {
  static const std::regex p(R"(^([A-Za-z0-9]+)(_[Ll][Aa][Tt][Ee])?_([0-9]+)_([0-9]+)_(.+)$)");
  return p;
}

bool looks_like_canvas(const std::vector<fs::path>& entries) {
  if (entries.empty()) return false;
  for (const auto& p : entries) {
    if (!fs::is_regular_file(fs::symlink_status(p))) return false;
    if (!std::regex_match(p.filename().string(), canvas_pattern())) return false;
  }
  return true;
}

// Canvas renames a resubmitted file "model.py" to "model-1.py".
std::string canvas_file_name(const std::string& name) {
  static const std::regex resubmitted(R"(^(.+)-[0-9]+(\.[^.]+)?$)");
  std::smatch m;
  if (std::regex_match(name, m, resubmitted)) return std::string(m[1]) + std::string(m[2]);
  return name;
}

void discover_canvas(const std::vector<fs::path>& files, Discovery& d) {
  d.format = "canvas";
  std::map<std::string, Entry> by_login;
  std::map<std::string, std::string> user_of_login;
  for (const auto& p : files) {
    std::smatch m;
    std::string fname = p.filename().string();
    std::regex_match(fname, m, canvas_pattern());
    std::string login = safe_student_id(m[1].str());
    std::string user = m[3];
    auto [it, fresh] = user_of_login.emplace(login, user);
    if (!fresh && it->second != user) {
      d.warnings.push_back(
          fmt::format("{}: login '{}' belongs to two Canvas users ({} and {}); ignored this file",
                      p.string(), login, it->second, user));
      continue;
    }
    Entry& e = by_login[login];
    e.student = login;
    e.files.emplace_back(p, canvas_file_name(m[5]));
  }
  for (auto& [login, e] : by_login) {
    // One archive is the submission itself; anything else is a set of files.
    if (e.files.size() == 1 && is_archive(e.files[0].first)) {
      e.source = e.files[0].first;
      e.files.clear();
    }
    e.submitted_at_source = "none";  // a Canvas bulk download carries no submission times
    d.entries.push_back(std::move(e));
  }
}

void discover_folder(const std::vector<fs::path>& entries, Discovery& d) {
  d.format = "folder";
  for (const auto& p : entries) {
    std::string name = p.filename().string();
    auto st = fs::symlink_status(p);
    Entry e;
    if (fs::is_directory(st)) {
      e.student = safe_student_id(name);
    } else if (fs::is_regular_file(st) && is_archive(p)) {
      e.student = safe_student_id(*archive_stem(name));
    } else {
      d.warnings.push_back(
          fmt::format("{}: ignored (not a folder or an archive named by student id)", p.string()));
      continue;
    }
    if (e.student.empty()) {
      d.warnings.push_back(
          fmt::format("{}: ignored (no usable student id in the name)", p.string()));
      continue;
    }
    e.source = p;
    // meta.toml beside the files (the bundled samples use it) holds the submission time.
    fs::path meta = p / "meta.toml";
    if (fs::is_directory(st) && fs::is_regular_file(fs::symlink_status(meta))) {
      SubmissionMeta m = read_meta_toml(meta, d.warnings);
      e.submitted_at = m.submitted_at;
      if (!m.name.empty()) e.name = m.name;
      if (e.submitted_at) e.submitted_at_source = "metadata";
    }
    add_entry(d, std::move(e), p.string());
  }
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

SubmissionMeta read_meta_toml(const fs::path& meta, std::vector<std::string>& warnings) {
  SubmissionMeta out;
  try {
    toml::table t = toml::parse_file(meta.string());
    std::optional<std::string> text;
    if (auto s = t["submitted_at"].value<std::string>())
      text = *s;
    else if (auto dt = t["submitted_at"].as_date_time()) {
      std::ostringstream os;
      os << dt->get();
      text = os.str();
    }
    if (text) {
      std::string problem;
      out.submitted_at = normalize_time(*text, &problem);
      if (!out.submitted_at)
        warnings.push_back(fmt::format("{}: unreadable submitted_at '{}': {}", meta.string(),
                                       reports::printable_text(*text), problem));
    }
    if (auto n = t["name"].value<std::string>()) out.name = *n;
  } catch (const toml::parse_error& err) {
    warnings.push_back(
        fmt::format("{}:{}: {}", meta.string(), err.source().begin.line, err.description()));
  }
  return out;
}

Discovery discover(const fs::path& submissions, const fs::path& unpack_dir) {
  fs::path root = submissions;
  auto st = fs::status(submissions);
  if (fs::is_regular_file(st)) {
    if (!is_archive(submissions)) {
      throw InputError(
          fmt::format("{}: expected a folder or a .zip of submissions", submissions.string()));
    }
    remove_tree_or_throw(unpack_dir);
    fs::create_directories(unpack_dir.parent_path());
    try {
      stage_submission(submissions, unpack_dir, unpack_rules());
    } catch (const IntakeError& e) {
      throw InputError(fmt::format("{}: cannot unpack: {}", submissions.string(), e.what()));
    }
    root = unpack_dir;
    // A zip of one folder holding everything: look inside it.
    auto top = listed(root);
    if (top.size() == 1 && fs::is_directory(fs::symlink_status(top[0])) &&
        !find_gradescope_metadata(root)) {
      root = top[0];
    }
  } else if (!fs::is_directory(st)) {
    throw InputError(fmt::format("{}: no such folder or archive", submissions.string()));
  }

  Discovery d;
  if (auto metadata = find_gradescope_metadata(root)) {
    discover_gradescope(*metadata, d);
  } else {
    auto entries = listed(root);
    if (looks_like_canvas(entries))
      discover_canvas(entries, d);
    else
      discover_folder(entries, d);
  }
  std::sort(d.entries.begin(), d.entries.end(),
            [](const Entry& a, const Entry& b) { return a.student < b.student; });
  return d;
}

std::optional<Shard> parse_shard(const std::string& text) {
  static const std::regex p(R"(^([0-9]{1,6})/([0-9]{1,6})$)");
  std::smatch m;
  if (!std::regex_match(text, m, p)) return std::nullopt;
  Shard s{std::stoi(m[1]), std::stoi(m[2])};
  if (s.count < 1 || s.index < 1 || s.index > s.count) return std::nullopt;
  return s;
}

bool in_shard(const std::string& student, const Shard& shard) {
  return fnv1a(student) % static_cast<uint64_t>(shard.count) ==
         static_cast<uint64_t>(shard.index - 1);
}

int fit_jobs_to_memory(int requested, uint64_t memory_per_grading, uint64_t mem_available) {
  if (requested < 1) requested = 1;
  if (memory_per_grading == 0 || mem_available == 0) return requested;
  uint64_t fit = mem_available / memory_per_grading;
  return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(fit, requested)));
}

uint64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t value = 0;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024;
  }
  return 0;
}

ExtensionTable read_extensions(const fs::path& csv) {
  auto rows = read_csv(csv);
  ExtensionTable out;
  if (rows.empty()) return out;
  auto column = [&](const char* name) -> int {
    for (size_t i = 0; i < rows[0].size(); ++i) {
      if (lower(rows[0][i]) == name) return static_cast<int>(i);
    }
    return -1;
  };
  int student = column("student"), days = column("days"), assignment = column("assignment");
  if (student < 0 || days < 0) {
    throw InputError(
        fmt::format("{}:1: needs the columns 'student' and 'days' (and optionally 'assignment')",
                    csv.string()));
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    auto cell = [&](int i) {
      return i >= 0 && static_cast<size_t>(i) < row.size() ? row[i] : std::string();
    };
    if (cell(student).empty()) continue;
    const std::string id = safe_student_id(cell(student));
    if (id.empty())
      throw InputError(fmt::format("{}:{}: student '{}' is not a usable id", csv.string(), r + 1,
                                   reports::printable_text(cell(student))));
    double d = 0;
    try {
      size_t used = 0;
      d = std::stod(cell(days), &used);
      // stod also reads "nan" and "inf": a number of days is finite.
      if (used != cell(days).size() || !(d >= 0) || !std::isfinite(d))
        throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}:{}: days '{}' is not a number >= 0", csv.string(), r + 1,
                                   reports::printable_text(cell(days))));
    }
    const std::string a = cell(assignment).empty() ? "*" : cell(assignment);
    out[{id, a}] = d;
  }
  return out;
}

Extensions load_extensions(const fs::path& csv, const std::string& assignment_id) {
  const ExtensionTable all = read_extensions(csv);
  Extensions out;
  for (const auto& [key, days] : all)
    if (key.second == "*") out.emplace(key.first, days);  // unless the assignment's own row
  for (const auto& [key, days] : all)
    if (key.second == assignment_id) out[key.first] = days;
  return out;
}

// ---------------------------------------------------------------------------------------
// The run

namespace {

using Clock = std::chrono::steady_clock;

json assignment_info(const Manifest& m, const std::string& hash) {
  json due = nullptr;
  if (m.due_epoch) {
    due = {{"date", format_rfc3339(*m.due_epoch)},
           {"late_percent_per_day", m.late_percent_per_day},
           {"late_max_days", m.late_max_days ? json(*m.late_max_days) : json(nullptr)}};
  }
  return {{"id", m.id},   {"title", m.title},   {"version", m.version},
          {"hash", hash}, {"points", m.points}, {"due", due}};
}

// The most memory one grading can hold at once: its runs are sequential.
uint64_t memory_per_grading(const Manifest& m) {
  // A run without a memory limit of its own gets the sandbox's default (no longer assumed to
  // be 1 GiB here: the default is sandbox::Policy's, 512 MiB).
  uint64_t most = 0;
  if (m.build) most = std::max(most, m.build->limits.memory_bytes());
  for (const auto& t : m.tests) most = std::max(most, t.limits.memory_bytes());
  return most;
}

std::string human_bytes(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.1f} GiB", b / double(1ull << 30));
  return fmt::format("{:.0f} MiB", b / double(1ull << 20));
}

std::string human_seconds(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02}m", int(s) / 3600, (int(s) / 60) % 60);
}

std::optional<json> read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// Exclusive use of DIR for the whole run; the kernel drops the lock when we die.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fs::path p = dir / ".lock";
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0)
      throw InputError(fmt::format("{}: cannot open: {}", p.string(), std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw InputError(fmt::format("{}: another grader is writing this folder", dir.string()));
    }
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

// A student's work folder once its result is committed (or skipped): only folders we made are
// left in it, so a failure is the disk's; said on the console, and .tmp/ goes at the next run.
void remove_work(const fs::path& work) {
  if (std::string error = remove_tree(work); !error.empty())
    std::cerr << "warning: cannot remove " << error << "\n";
}

// Removes what a killed run left behind: .tmp/ and the temp files of atomic writes.
void clean_leftovers(const fs::path& out) {
  remove_tree_or_throw(out / ".tmp");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos)
      fs::remove(e.path(), ec);
  }
}

// Puts `fresh` at `final` in one step: exchange when `final` exists, then drop the old one.
void commit_dir(const fs::path& fresh, const fs::path& final_dir) {
  fs::create_directories(final_dir.parent_path());
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) == 0)
    return;
  if (errno != EEXIST) {
    throw std::runtime_error(
        fmt::format("{}: cannot move into place: {}", final_dir.string(), std::strerror(errno)));
  }
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0) {
    throw std::runtime_error(
        fmt::format("{}: cannot swap into place: {}", final_dir.string(), std::strerror(errno)));
  }
  remove_tree_or_throw(fresh);  // now holds the previous result
}

// A copy of a regular file that is never a link.
void copy_plain_file(const fs::path& from, const fs::path& to) {
  if (!fs::is_regular_file(fs::symlink_status(from))) {
    throw IntakeError(fmt::format("{}: not a regular file", from.string()));
  }
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

// What the engine gets: the entry itself, or a folder made from Canvas files, or a folder
// without the samples' meta.toml.
fs::path prepare_input(const Entry& e, const fs::path& work, const Manifest& m) {
  if (!e.files.empty()) {
    fs::path dir = work / "input";
    for (const auto& [file, name] : e.files) copy_plain_file(file, dir / name);
    return dir;
  }
  if (fs::is_directory(fs::symlink_status(e.source)) &&
      fs::is_regular_file(fs::symlink_status(e.source / "meta.toml"))) {
    fs::path dir = work / "input";
    IntakeRules rules = unpack_rules();
    rules.max_bytes = m.max_bytes * 2 + 4096;
    rules.max_files = m.max_files + 1;
    try {
      stage_submission(e.source, dir, rules);
      fs::remove(dir / "meta.toml");
      return dir;
    } catch (const IntakeError&) {
      remove_tree_or_throw(dir);  // let the engine reject the original with its own message
    }
  }
  return e.source;
}

reports::Score ungradable_score(const Entry& e, const Manifest& m, const std::string& hash,
                                const std::optional<StagedSubmission>& staged,
                                const std::optional<double>& extension, const std::string& reason) {
  reports::Score score;
  score.status = reports::ScoreStatus::Ungradable;
  score.ungradable_reason = reports::printable_text(reason);
  score.assignment = {m.id, m.title, m.version, hash};
  reports::SubmissionInfo& sub = score.submission;
  sub.student = e.student;
  sub.submitted_at = e.submitted_at;
  sub.submitted_at_source = e.submitted_at_source;
  if (auto due = extended_due(late_rule(m), extension)) sub.due_at = format_rfc3339(*due);
  if (staged) {
    sub.content_hash = staged->content_hash;
    sub.files = static_cast<int64_t>(staged->files);
    sub.bytes = static_cast<int64_t>(staged->bytes);
  }
  score.grader_version = GRADER_VERSION;
  score.host = {{"kernel", ""},
                {"cgroup", "unknown"},
                {"user_namespace", nullptr},
                {"enforced", json::object()}};
  score.totals.max = m.points;
  score.started_at = score.finished_at = format_rfc3339(std::time(nullptr));
  return score;
}

json opt_json(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json opt_json(const std::optional<double>& d) { return d ? json(*d) : json(nullptr); }

// Is the existing score.json still the grade of this exact input?
bool up_to_date(const json& score, const Entry& e, const std::string& content_hash,
                const std::string& assignment_hash, const std::optional<double>& extension,
                double time_scale) {
  try {
    const json& sub = score.at("submission");
    return score.at("status") == "graded" && score.at("assignment").at("hash") == assignment_hash &&
           score.at("grader").at("version") == GRADER_VERSION &&
           score.at("grader").at("mode") == "grade" && sub.at("content_hash") == content_hash &&
           sub.at("submitted_at") == opt_json(e.submitted_at) &&
           sub.at("submitted_at_source") == e.submitted_at_source &&
           sub.value("due_extension_days", json(nullptr)) == opt_json(extension) &&
           score.at("host").value("time_scale", 1.0) == time_scale;
  } catch (const json::exception&) {
    return false;
  }
}

struct Progress {
  std::mutex mu;
  std::condition_variable cv;
  int total = 0, done = 0, graded = 0, skipped = 0, ungradable = 0, low_scores = 0;
  bool finished = false;
  Clock::time_point start = Clock::now();
  bool tty = false;
  int verbosity = 0;
  size_t last_width = 0;

  std::string line() {
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    double rate = graded > 0 ? graded / elapsed : 0;
    std::string eta = rate > 0 ? human_seconds((total - done) / rate) : "?";
    return fmt::format("[{}/{}] {:.1f}/min  ETA {}  ungradable {}  (skipped {} unchanged)", done,
                       total, rate * 60, eta, ungradable, skipped);
  }
  void draw() {  // holds mu
    std::string l = line();
    std::string pad(last_width > l.size() ? last_width - l.size() : 0, ' ');
    std::cerr << '\r' << l << pad << std::flush;
    last_width = l.size();
  }
  void report(const std::string& student, const json& score, bool skipped_one) {
    std::lock_guard lock(mu);
    ++done;
    bool bad = score.value("status", "") != "graded";
    if (skipped_one)
      ++skipped;
    else
      ++graded;
    if (bad) ++ungradable;
    if (tty) {
      if (bad) {
        std::cerr << '\r' << std::string(last_width, ' ') << '\r';
        std::cerr << fmt::format("ungradable: {}: {}\n", student,
                                 score.value("ungradable_reason", "?"));
      }
      draw();
      return;
    }
    if (verbosity < 0) return;
    const json& totals = score.value("totals", json::object());
    std::string what =
        bad ? fmt::format("UNGRADABLE: {}", score.value("ungradable_reason", "?"))
            : fmt::format("{:.1f}/{:.1f}{}", totals.value("final", 0.0), totals.value("max", 0.0),
                          skipped_one ? " (unchanged, skipped)" : "");
    std::cerr << fmt::format("[{}/{}] {}: {}\n", done, total, student, what);
  }
};

// The batch's outcome from the score files: the same for a run and for a merge.
Result result_of(const std::vector<json>& scores, const fs::path& out) {
  Result r;
  r.total = static_cast<int>(scores.size());
  for (const auto& s : scores) {
    if (s.value("status", "") != "graded") {
      ++r.ungradable;
      r.ungradable_list.emplace_back(s["submission"].value("student", "?"),
                                     s.value("ungradable_reason", "?"));
    }
  }
  r.summary_html = (out / "summary.html").string();
  return r;
}

// One `grader batch`, as the stages run() lists. Workers share the members below; what they
// change is either atomic, under a mutex (fatal_, the progress), or their own entry's folder.
class BatchRun {
 public:
  explicit BatchRun(const Options& options) : o_(options) {}
  Result run();

 private:
  void open_output();       // the assignment, and the output folder locked and tidied
  void find_submissions();  // discovery, this shard's share, the extensions
  int choose_jobs() const;  // as asked, fitted to memory and to the number of submissions
  void grade_all(int jobs);
  void grade_one(const Entry& e, size_t index);
  std::optional<json> unchanged_score(const Entry& e, const std::optional<StagedSubmission>& staged,
                                      const std::optional<double>& extension) const;
  GradeRequest request_for(const Entry& e, const fs::path& input, const fs::path& work,
                           const std::optional<double>& extension);
  void store(const Entry& e, reports::Score score, std::optional<StagedSubmission>& staged,
             const fs::path& work, const std::optional<double>& extension);
  Result summarise();
  void stop(const std::string& why);  // the first fatal error stops every worker

  fs::path final_dir(const Entry& e) const { return o_.out / "students" / e.student; }
  std::optional<double> extension_of(const std::string& student) const {
    if (auto it = extensions_.find(student); it != extensions_.end() && it->second > 0)
      return it->second;
    return std::nullopt;
  }

  Options o_;
  fs::path assignment_dir_, tmp_;
  Manifest manifest_;
  std::string ahash_;
  json info_;
  std::optional<DirLock> lock_;
  std::string format_;  // of the submissions folder, as discovered
  std::vector<Entry> entries_;
  Extensions extensions_;
  std::optional<Zygotes> zygotes_;  // warm start: shared by the workers of this shard
  Progress progress_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> abort_{false};
  std::mutex error_mu_;
  std::optional<std::string> fatal_;
};

Result BatchRun::run() {
  open_output();
  find_submissions();
  const int jobs = choose_jobs();
  if (o_.verbosity >= 0) {
    std::cerr << fmt::format(
        "grading {} submissions ({} format{}) of {} with {} at once into {}\n", entries_.size(),
        format_, o_.shard ? fmt::format(", shard {}/{}", o_.shard->index, o_.shard->count) : "",
        manifest_.id, jobs, o_.out.string());
  }
  grade_all(jobs);
  if (fatal_) throw InputError(*fatal_);
  return summarise();
}

void BatchRun::open_output() {
  // Absolute paths: the sandbox runs start in other folders.
  o_.out = fs::absolute(o_.out).lexically_normal();
  o_.submissions = fs::absolute(o_.submissions).lexically_normal();
  assignment_dir_ = resolve_assignment(o_.assignment);
  manifest_ = load_manifest(assignment_dir_);
  ahash_ = assignment_hash(assignment_dir_);
  info_ = assignment_info(manifest_, ahash_);
  fs::create_directories(o_.out);
  lock_.emplace(o_.out);
  clean_leftovers(o_.out);
  tmp_ = o_.out / ".tmp";
  fs::create_directories(tmp_);
}

void BatchRun::find_submissions() {
  Discovery d = discover(o_.submissions, tmp_ / "unpacked");
  for (const auto& w : d.warnings) std::cerr << "warning: " << w << "\n";
  format_ = d.format;
  for (auto& e : d.entries) {
    if (!o_.shard || in_shard(e.student, *o_.shard)) entries_.push_back(std::move(e));
  }
  if (o_.extensions) extensions_ = load_extensions(*o_.extensions, manifest_.id);
}

int BatchRun::choose_jobs() const {
  int jobs =
      o_.jobs > 0 ? o_.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const uint64_t per = memory_per_grading(manifest_), avail = mem_available_bytes();
  const int fitted = fit_jobs_to_memory(jobs, per, avail);
  if (fitted < jobs) {
    std::cerr << fmt::format(
        "note: running {} at once instead of {}: each grading may use {} and {} is available\n",
        fitted, jobs, human_bytes(per), human_bytes(avail));
    jobs = fitted;
  }
  return std::max(1, std::min<int>(jobs, static_cast<int>(std::max<size_t>(1, entries_.size()))));
}

void BatchRun::stop(const std::string& why) {
  std::lock_guard l(error_mu_);
  if (!fatal_) fatal_ = why;
  abort_ = true;
}

void BatchRun::grade_all(int jobs) {
  progress_.total = static_cast<int>(entries_.size());
  progress_.tty = o_.progress_tty;
  progress_.verbosity = o_.verbosity;
  zygotes_.emplace(SandboxRunner::locate());
  std::vector<std::thread> workers;
  for (int w = 0; w < jobs; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next_++; i < entries_.size() && !abort_; i = next_++) {
        try {
          grade_one(entries_[i], i);
        } catch (const std::exception& err) {
          // Writing the result failed (disk full, ...): nothing to record, stop cleanly.
          stop(fmt::format("{}: {}", entries_[i].student, err.what()));
        }
      }
    });
  }
  if (progress_.tty) {
    std::unique_lock l(progress_.mu);
    while (progress_.done < progress_.total && !abort_) {
      progress_.draw();
      progress_.cv.wait_for(l, std::chrono::milliseconds(500));
    }
  }
  for (auto& t : workers) t.join();
  if (progress_.tty) std::cerr << "\n";
}

void BatchRun::grade_one(const Entry& e, size_t index) {
  const fs::path work = tmp_ / fmt::format("w{}", index);
  fs::create_directories(work);
  const std::optional<double> extension = extension_of(e.student);
  std::optional<StagedSubmission> staged;
  reports::Score score;
  try {
    const fs::path input = prepare_input(e, work, manifest_);
    IntakeRules rules{manifest_.required, manifest_.allowed, manifest_.max_bytes,
                      manifest_.max_files};
    try {
      staged = stage_submission(input, work / "staged", rules);
    } catch (const IntakeError&) {
      // The engine rejects it again and records why; nothing to compare with.
    }
    if (auto old = unchanged_score(e, staged, extension)) {
      remove_work(work);
      progress_.report(e.student, *old, true);
      return;
    }
    score = grade_record(request_for(e, input, work, extension));
  } catch (const InputError& err) {
    stop(err.what());  // a bad manifest or request is the same for everyone
    return;
  } catch (const std::exception& err) {
    score = ungradable_score(e, manifest_, ahash_, staged, extension,
                             std::string("grader failure: ") + err.what());
  }
  store(e, std::move(score), staged, work, extension);
}

// The student's score.json, where it is still the grade of this exact input (and --force
// was not given).
std::optional<json> BatchRun::unchanged_score(const Entry& e,
                                              const std::optional<StagedSubmission>& staged,
                                              const std::optional<double>& extension) const {
  if (o_.force || !staged) return std::nullopt;
  auto old = read_json(final_dir(e) / "score.json");
  if (old && up_to_date(*old, e, staged->content_hash, ahash_, extension, o_.time_scale))
    return old;
  return std::nullopt;
}

GradeRequest BatchRun::request_for(const Entry& e, const fs::path& input, const fs::path& work,
                                   const std::optional<double>& extension) {
  GradeRequest req;
  req.assignment_dir = assignment_dir_;
  req.submission = input;
  req.student = e.student;
  req.submitted_at = e.submitted_at;
  req.submitted_at_source = e.submitted_at_source;
  req.mode = Mode::Grade;
  req.scratch_root = work / "scratch";
  req.due_extension_days = extension;
  req.time_scale = o_.time_scale;
  req.zygotes = &*zygotes_;
  fs::create_directories(req.scratch_root);
  return req;
}

void BatchRun::store(const Entry& e, reports::Score score, std::optional<StagedSubmission>& staged,
                     const fs::path& work, const std::optional<double>& extension) {
  score.submission.due_extension_days = extension;
  // What the grading left in its work folder (the input copy, the engine's scratch root) goes
  // before the score is written, so that a failure is recorded in it.
  for (const char* leftover : {"input", "scratch"})
    if (std::string error = remove_tree(work / leftover); !error.empty())
      record_cleanup_failure(score, error);
  // Build the student's new folder beside the old one, then swap it in.
  fs::path fresh = work / "result";
  fs::create_directories(fresh);
  if (staged) fs::rename(staged->dir, fresh / "submission");
  const json written = score;
  reports::write_score_json(fresh / "score.json", written);
  commit_dir(fresh, final_dir(e));
  remove_work(work);
  progress_.report(e.student, written, false);
  progress_.cv.notify_all();
}

// The class summary: a function of the score files of this run's students only.
Result BatchRun::summarise() {
  std::vector<json> scores;
  for (const auto& e : entries_) {
    auto s = read_json(final_dir(e) / "score.json");
    if (!s)
      throw std::runtime_error(fmt::format("{}: missing after grading", final_dir(e).string()));
    scores.push_back(std::move(*s));
  }
  json shard =
      o_.shard ? json{{"index", o_.shard->index}, {"count", o_.shard->count}} : json(nullptr);
  reports::write_summary(o_.out, reports::class_summary(info_, scores, shard));
  remove_tree_or_throw(tmp_);
  Result r = result_of(scores, o_.out);
  r.total = progress_.total;
  r.graded = progress_.graded;
  r.skipped = progress_.skipped;
  return r;
}

}  // namespace

Result run(const Options& options) { return BatchRun(options).run(); }

Result merge(const std::vector<fs::path>& shard_dirs, const fs::path& out) {
  if (shard_dirs.empty()) throw InputError("merge: no shard folders given");
  std::optional<json> info;
  std::set<int> seen;
  int count = 0;
  std::vector<std::pair<std::string, fs::path>> students;  // id, shard folder
  for (const auto& dir : shard_dirs) {
    auto summary = read_json(dir / "summary.json");
    if (!summary)
      throw InputError(
          fmt::format("{}: no readable summary.json (did this shard finish?)", dir.string()));
    const json& a = (*summary)["assignment"];
    if (!info)
      info = a;
    else if ((*info)["hash"] != a["hash"]) {
      throw InputError(fmt::format("{}: graded a different assignment version ({} vs {})",
                                   dir.string(), a.value("hash", "?"), (*info).value("hash", "?")));
    }
    if ((*summary).value("grader_version", "") != GRADER_VERSION) {
      throw InputError(fmt::format("{}: written by grader {}, this is {}", dir.string(),
                                   (*summary).value("grader_version", "?"), GRADER_VERSION));
    }
    const json& shard = (*summary)["shard"];
    if (shard.is_object()) {
      int k = shard.value("index", 0), n = shard.value("count", 0);
      if (count && n != count)
        throw InputError(
            fmt::format("{}: shard {}/{} does not match N={}", dir.string(), k, n, count));
      count = n;
      if (!seen.insert(k).second)
        throw InputError(fmt::format("{}: shard {}/{} given twice", dir.string(), k, n));
    }
    for (const auto& s : (*summary)["students"]) {
      // The id names a folder below: a shard's summary is a file, not to be trusted further.
      std::string id = s.value("student", "");
      check_student_id(id, (dir / "summary.json").string());
      students.emplace_back(id, dir);
    }
  }
  if (count) {
    for (int k = 1; k <= count; ++k) {
      if (!seen.count(k)) throw InputError(fmt::format("merge: shard {}/{} is missing", k, count));
    }
  }
  std::sort(students.begin(), students.end());
  for (size_t i = 1; i < students.size(); ++i) {
    if (students[i].first == students[i - 1].first) {
      throw InputError(fmt::format("merge: student '{}' is in both {} and {}", students[i].first,
                                   students[i - 1].second.string(), students[i].second.string()));
    }
  }

  fs::create_directories(out);
  DirLock lock(out);
  clean_leftovers(out);
  fs::path tmp = out / ".tmp";
  std::vector<json> scores;
  for (const auto& [id, dir] : students) {
    fs::path from = dir / "students" / id;
    auto score = read_json(from / "score.json");
    if (!score) throw InputError(fmt::format("{}: no readable score.json", from.string()));
    fs::path to = out / "students" / id;
    std::error_code same_ec;
    if (fs::exists(to) && fs::equivalent(from, to, same_ec)) {
      scores.push_back(std::move(*score));  // merging into one of the shard folders
      continue;
    }
    fs::path fresh = tmp / id;
    remove_tree_or_throw(fresh);
    fs::create_directories(tmp);
    copy_tree(from, fresh);
    commit_dir(fresh, to);
    scores.push_back(std::move(*score));
  }
  reports::write_summary(out, reports::class_summary(*info, scores, nullptr));
  remove_tree_or_throw(tmp);
  return result_of(scores, out);
}

}  // namespace grader::batch
