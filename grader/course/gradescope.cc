// See gradescope.h.
#include "grader/course/gradescope.h"

#include <archive.h>
#include <archive_entry.h>
#include <link.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "grader/course/container_check.h"
#include "grader/engine/engine.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"
#include "reports/score.h"

namespace grader::gradescope {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ZipEntry {
  std::string name;  // path inside the zip
  fs::path source;   // file to copy, or empty when `content` is used
  std::string content;
  int mode = 0644;
};

fs::path own_executable() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the grader's own executable: " + ec.message());
  return exe;
}

// glibc's libraries come with the target system; every other shared library the grader
// loaded travels in lib/ so the binaries start on a base image without our -dev packages.
bool is_system_library(const std::string& name) {
  for (const char* prefix : {"linux-vdso", "ld-linux", "libc.so", "libm.so", "libpthread.so",
                             "libdl.so", "librt.so", "libresolv.so", "libutil.so"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

std::vector<fs::path> loaded_libraries() {
  std::vector<fs::path> libraries;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] == '/')
          static_cast<std::vector<fs::path>*>(data)->emplace_back(info->dlpi_name);
        return 0;
      },
      &libraries);
  std::vector<fs::path> bundled;
  for (const fs::path& library : libraries)
    if (!is_system_library(library.filename().string())) bundled.push_back(library);
  return bundled;
}

void add_assignment_files(const fs::path& dir, const std::string& prefix,
                          std::vector<ZipEntry>& entries) {
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path relative = it->path().lexically_relative(dir);
    const std::string first = relative.begin()->string();
    const std::string name = it->path().filename().string();
    // Samples and planted-bug variants are for the course staff; caches are noise.
    if (first == "samples" || first == "variants" || name == "__pycache__" || name == ".git") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->is_symlink()) continue;
    const auto perms = it->status().permissions();
    const bool executable = (perms & fs::perms::owner_exec) != fs::perms::none;
    entries.push_back(
        {prefix + relative.generic_string(), it->path(), "", executable ? 0755 : 0644});
  }
}

void write_zip(const fs::path& out, const std::vector<ZipEntry>& entries) {
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  const fs::path temporary = out.string() + ".tmp";
  std::unique_ptr<struct archive, decltype(&archive_write_free)> zip(archive_write_new(),
                                                                     archive_write_free);
  auto fail = [&](const std::string& what) {
    const char* detail = archive_error_string(zip.get());
    std::string message = out.string() + ": " + what + ": " + (detail ? detail : "unknown error");
    zip.reset();
    std::error_code ec;
    fs::remove(temporary, ec);
    throw std::runtime_error(message);
  };
  if (archive_write_set_format_zip(zip.get()) != ARCHIVE_OK) fail("zip format");
  if (archive_write_open_filename(zip.get(), temporary.c_str()) != ARCHIVE_OK)
    fail("cannot create");
  for (const ZipEntry& entry : entries) {
    std::string data = entry.content;
    if (!entry.source.empty()) {
      std::ifstream in(entry.source, std::ios::binary);
      if (!in) throw std::runtime_error(entry.source.string() + ": cannot read");
      std::ostringstream buffer;
      buffer << in.rdbuf();
      data = buffer.str();
    }
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> header(archive_entry_new(),
                                                                                archive_entry_free);
    archive_entry_set_pathname(header.get(), entry.name.c_str());
    archive_entry_set_filetype(header.get(), AE_IFREG);
    archive_entry_set_perm(header.get(), entry.mode);
    archive_entry_set_size(header.get(), static_cast<la_int64_t>(data.size()));
    archive_entry_set_mtime(header.get(), 1577836800, 0);  // fixed: the same input, the same zip
    if (archive_write_header(zip.get(), header.get()) != ARCHIVE_OK) fail(entry.name);
    if (!data.empty() && archive_write_data(zip.get(), data.data(), data.size()) !=
                             static_cast<la_ssize_t>(data.size()))
      fail(entry.name);
  }
  if (archive_write_close(zip.get()) != ARCHIVE_OK) fail("cannot finish");
  zip.reset();
  fs::rename(temporary, out);
}

std::optional<std::string> string_at(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string())
    return object[key].get<std::string>();
  return std::nullopt;
}

// What results.json needs of a grading that never produced a score.
reports::Score ungradable_score(const std::string& reason, double seconds) {
  reports::Score score;
  score.status = reports::ScoreStatus::Ungradable;
  score.ungradable_reason = reports::printable_text(reason);
  score.duration_seconds = seconds;
  return score;
}

}  // namespace

fs::path find_templates_dir() {
  std::vector<fs::path> candidates;
  if (const char* share = std::getenv("GRADER_SHARE_DIR"))
    candidates.push_back(fs::path(share) / "gradescope");
  try {
    candidates.push_back(own_executable().parent_path().parent_path() / "share/grader/gradescope");
  } catch (const std::exception&) {
  }
  candidates.push_back(fs::path(GRADER_SOURCE_DIR) / "docker");
  std::string tried;
  for (const fs::path& dir : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "setup.sh", ec) &&
        fs::is_regular_file(dir / "run_autograder", ec))
      return dir;
    tried += (tried.empty() ? "" : ", ") + dir.string();
  }
  throw std::runtime_error("no setup.sh and run_autograder templates in " + tried);
}

double worst_case_seconds(const Manifest& m) {
  auto wall = [](const Limits& l) { return l.wall_seconds(); };
  double total = m.build ? wall(m.build->limits) : 0;
  for (const TestSpec& t : m.tests) {
    double runs = 1;
    if (t.kind == TestKind::ProduceCheck) runs = 2;
    // Each pair: baseline low, baseline high, student high and a check; noisy pairs are
    // measured again (up to 2 more tries) and more pairs added (up to 2 x pairs).
    if (t.kind == TestKind::Perf) runs = 2.0 * static_cast<double>(t.pairs) * 4 * 3;
    total += runs * wall(t.limits);
  }
  return total;
}

std::vector<std::string> write_autograder_zip(const PackageOptions& options) {
  const Manifest manifest = load_manifest(options.assignment_dir);
  std::vector<ZipEntry> entries;
  entries.push_back({"setup.sh", options.templates_dir / "setup.sh", "", 0755});
  entries.push_back({"run_autograder", options.templates_dir / "run_autograder", "", 0755});
  entries.push_back(
      {"grader.conf",
       {},
       "assignment=" + manifest.id + "\ntimeout=" + std::to_string(options.timeout_seconds) + "\n",
       0644});
  for (const char* program : {"grader", "grader-sandbox"}) {
    const fs::path binary = options.bin_dir / program;
    if (!fs::is_regular_file(binary))
      throw std::runtime_error(binary.string() + ": not found (build it first)");
    entries.push_back({std::string("bin/") + program, binary, "", 0755});
  }
  // grader-sandbox's warm start, found beside it (without them every run starts cold).
  for (const char* file : {"libgrader-warm.so", "grader-zygote.py"})
    if (fs::is_regular_file(options.bin_dir / file))
      entries.push_back({std::string("bin/") + file, options.bin_dir / file, "", 0644});
  for (const fs::path& library : loaded_libraries())
    entries.push_back({"lib/" + library.filename().string(), library, "", 0644});
  add_assignment_files(options.assignment_dir, "assignments/" + manifest.id + "/", entries);
  write_zip(options.out_zip, entries);
  std::vector<std::string> names;
  for (const ZipEntry& entry : entries) names.push_back(entry.name);
  return names;
}

Metadata read_metadata(const fs::path& file) {
  Metadata metadata;
  std::ifstream in(file);
  if (!in) {
    metadata.warnings.push_back(file.string() + ": cannot read; no submission time");
    return metadata;
  }
  json data = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!data.is_object()) {
    metadata.warnings.push_back(file.string() + ": not a JSON object; no submission time");
    return metadata;
  }
  if (auto created = string_at(data, "created_at")) {
    std::string problem;
    if (auto epoch = parse_rfc3339(*created, &problem))
      metadata.submitted_at = format_rfc3339(*epoch);
    else
      metadata.warnings.push_back(file.string() + ": created_at '" +
                                  reports::printable_text(*created) + "': " + problem +
                                  "; no submission time");
  } else {
    metadata.warnings.push_back(file.string() + ": no created_at; no submission time");
  }
  const json users = data.value("users", json::array());
  const json first_user = users.is_array() && !users.empty() ? users[0] : json::object();
  // Gradescope puts a student's own (extended) due date under users[i].assignment.
  std::optional<std::string> due;
  if (first_user.is_object() && first_user.contains("assignment"))
    due = string_at(first_user["assignment"], "due_date");
  if (!due && data.contains("assignment")) due = string_at(data["assignment"], "due_date");
  metadata.due_date = due;
  // The id keeps the one rule (student_id.h); an email that breaks it (a quote, a space) is
  // not worth failing a grading for: the submission id stands in, with a warning.
  std::optional<std::string> submission;
  if (data.contains("id") && data["id"].is_number_integer())
    submission = "submission-" + std::to_string(data["id"].get<int64_t>());
  if (auto email = string_at(first_user, "email")) {
    try {
      check_student_id(*email, file.string() + ": users[0].email");
      metadata.student = *email;
    } catch (const InputError& e) {
      metadata.warnings.push_back(std::string(e.what()) + "; using " +
                                  submission.value_or(metadata.student) + " instead");
      if (submission) metadata.student = *submission;
    }
  } else if (submission) {
    metadata.student = *submission;
  }
  return metadata;
}

int run(const fs::path& assignment_dir, const fs::path& root, std::ostream& log) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const fs::path results = root / "results" / "results.json";
  try {
    const std::string advice = container_advice(probe_container());
    if (!advice.empty()) log << advice;

    const Manifest manifest = load_manifest(assignment_dir);
    const Metadata metadata = read_metadata(root / "submission_metadata.json");
    for (const std::string& warning : metadata.warnings) log << "grader: " << warning << "\n";

    GradeRequest request;
    request.assignment_dir = assignment_dir;
    request.submission = root / "submission";
    request.student = metadata.student;
    request.submitted_at = metadata.submitted_at;
    request.submitted_at_source = metadata.submitted_at ? "metadata" : "none";
    request.mode = Mode::Grade;
    // Gradescope's due date wins over the manifest's: the difference becomes an extension.
    if (metadata.due_date) {
      std::string problem;
      auto gradescope_due = parse_rfc3339(*metadata.due_date, &problem);
      if (gradescope_due && manifest.due_epoch) {
        request.due_extension_days =
            static_cast<double>(*gradescope_due - *manifest.due_epoch) / 86400.0;
      } else if (!gradescope_due) {
        log << "grader: due_date '" << reports::printable_text(*metadata.due_date)
            << "': " << problem << "; using the manifest's due date\n";
      } else {
        log << "grader: the manifest has no due date; Gradescope's due date is ignored\n";
      }
    }
    const reports::Score score = grade_record(request);
    reports::write_gradescope_results(results, score, manifest.gradescope_hidden_visibility);
    const bool graded = score.status == reports::ScoreStatus::Graded;
    if (graded) {
      log << "grader: graded " << manifest.id << ": " << score.totals.final << " of "
          << score.totals.max << "\n";
    } else {
      log << "grader: ungradable: " << score.ungradable_reason.value_or("") << "\n";
    }
    return graded ? 0 : 3;
  } catch (const std::exception& error) {
    log << "grader: could not grade: " << error.what() << "\n";
    try {
      reports::write_gradescope_results(results, ungradable_score(error.what(), elapsed()));
    } catch (const std::exception& write_error) {
      log << "grader: " << write_error.what() << "\n";  // run_autograder writes its fallback
    }
    return 3;
  }
}

}  // namespace grader::gradescope
