// The grading pipeline: intake -> build -> run tests (each with its check) -> score. Writing
// the files is the caller's (reports/score.h), so batch grading can write where it wants.
#include "grader/engine/engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <regex>

#include "grader/box/remove_tree.h"
#include "grader/box/zygotes.h"
#include "grader/engine/intake.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"
#include "grader/engine/test_runs.h"
#include "grader/engine/tree_hash.h"
#include "reports/score.h"
#include "sandbox/cgroup.h"

namespace grader {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  return format_rfc3339(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

double round4(double x) { return std::round(x * 1e4) / 1e4; }

// Whether boxes reach their folders by host path, as the box's uid: only when the grader runs
// as root and the sandbox can make no namespaces (a container that allows none). Otherwise
// the sandbox binds each folder into the box as root, or in a user namespace mapped to our
// uid, so the box never walks the host's path. Asked of the sandbox itself, once per process,
// with an empty run.
bool boxes_walk_host_paths(const fs::path& probe_dir) {
  if (geteuid() != 0) return false;  // without namespaces a box keeps our own uid
  static std::once_flag once;
  static bool answer = false;
  std::call_once(once, [&] {
    try {
      SandboxRunner runner(SandboxRunner::locate());
      BoxSpec spec;
      spec.argv = {"/bin/true"};
      spec.cwd = "/";
      spec.limits.cpu_time = 2.0;
      spec.limits.wall_time = 10.0;
      BoxResult r = runner.run(spec, probe_dir);
      auto filesystem = r.result.enforced.find("filesystem");
      answer = r.carried_out && filesystem != r.result.enforced.end() &&
               filesystem->second == "not enforced";
    } catch (const std::exception& e) {
      spdlog::warn("cannot ask the sandbox how it isolates: {}", e.what());
    }
    if (std::string error = remove_tree(probe_dir); !error.empty())
      spdlog::warn("cannot remove {}", error);
  });
  return answer;
}

// A private folder for one grading (0700), removed at the end (kept when GRADER_KEEP_SCRATCH
// is set, for debugging).
class Scratch {
 public:
  explicit Scratch(const fs::path& root) {
    std::error_code ec;
    fs::path base = root.empty() ? fs::temp_directory_path(ec) : root;
    fs::create_directories(base, ec);
    std::string pattern = (base / "grade-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {  // mode 0700
      throw InfrastructureError(
          fmt::format("cannot create a scratch folder under {}", base.string()));
    }
    dir_ = pattern;
    if (boxes_walk_host_paths(dir_ / "probe")) {
      // The box's uid must pass through (not list) this folder to reach its own folders.
      traversable_ = ::chmod(dir_.c_str(), 0711) == 0;
    }
  }
  ~Scratch() {
    if (std::string error = remove(); !error.empty())
      spdlog::error("cannot remove the scratch folder: {}", error);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& dir() const { return dir_; }
  bool traversable() const { return traversable_; }

  // Removes the folder (once); "" when it is gone (or kept on purpose), else what was left.
  std::string remove() {
    if (removed_) return "";
    removed_ = true;
    if (std::getenv("GRADER_KEEP_SCRATCH")) {
      spdlog::info("kept scratch folder {}", dir_.string());
      return "";
    }
    return remove_tree(dir_);
  }

 private:
  fs::path dir_;
  bool traversable_ = false;
  bool removed_ = false;
};

// The cgroups of runs whose grader-sandbox was killed (kill -9, the OOM killer, a cancelled
// Slurm job) go before this grading makes its own: on a server that grades all term they
// would pile up. Cheap: a few folder listings.
void remove_stale_cgroups() {
  std::vector<std::string> failures;
  int removed = sandbox::remove_stale_cgroups(failures);
  if (removed) spdlog::info("removed {} cgroups left by killed sandbox runs", removed);
  for (const auto& f : failures) spdlog::warn("cannot remove a stale cgroup: {}", f);
}

json ignored_json(const std::vector<IgnoredEntry>& ignored) {
  json out = json::array();
  for (const IgnoredEntry& entry : ignored) {
    json e = {{"path", reports::printable_text(entry.path)}, {"what", entry.what}};
    if (entry.files) e["files"] = *entry.files;
    if (entry.bytes) e["bytes"] = *entry.bytes;
    out.push_back(std::move(e));
  }
  return out;
}

std::string kernel_release() {
  struct utsname u {};
  return uname(&u) == 0 ? u.release : "unknown";
}

// How the grading's runs started: warm (a zygote's fork) or cold, and why not warm.
json start_facts(const GradingContext& ctx) {
  return {{"preload", ctx.manifest.preload},
          {"warm_runs", ctx.warm_runs},
          {"cold_runs", ctx.cold_runs},
          {"cold_note", ctx.cold_note.empty() ? json(nullptr) : json(ctx.cold_note)}};
}

// The zygotes for the manifest's preload: the shared pool or the grading's own; null (and
// `why`, unless nothing is preloaded) where the runs start cold.
Zygotes* zygote_pool(const Manifest& m, const GradeRequest& req, std::optional<Zygotes>& own,
                     std::string& why) {
  if (m.preload.empty()) return nullptr;
  why = warm_start_unavailable();
  if (!why.empty()) return nullptr;
  if (req.zygotes) return req.zygotes;
  return &own.emplace(SandboxRunner::locate());
}

// What the host enforced, from the first sandbox result, and the time scale applied.
json host_facts(const json& enforced, double time_scale) {
  json host = {{"kernel", kernel_release()},
               {"cgroup", "unknown"},
               {"user_namespace", nullptr},
               {"enforced", enforced.is_object() ? enforced : json::object()},
               {"time_scale", time_scale}};
  if (!enforced.is_object()) return host;
  std::string all = enforced.dump();
  host["cgroup"] = all.find("cgroup v2") != std::string::npos   ? "v2"
                   : all.find("cgroup v1") != std::string::npos ? "v1"
                                                                : "none";
  if (enforced.contains("user_namespace")) {
    const json& u = enforced["user_namespace"];
    host["user_namespace"] =
        u.is_boolean() ? u.get<bool>() : (u.is_string() && u.get<std::string>() == "yes");
  }
  return host;
}

bool selected(const TestSpec& t, const GradeRequest& req) {
  if (req.mode == Mode::Grade) return true;
  if (t.visibility != Visibility::Public) return false;
  return req.only_tests.empty() ||
         std::find(req.only_tests.begin(), req.only_tests.end(), t.id) != req.only_tests.end();
}

// Why a test did not run; check mode: a hidden test, or a public one left out by --test.
std::string not_selected_reason(const TestSpec& t) {
  return t.visibility == Visibility::Public ? "Not run: not selected (grader check --test)."
                                            : "Not run by `grader check` (only public tests run).";
}

// Refuses a --test that names no public test, listing the ones there are.
void check_selection(const Manifest& m, const GradeRequest& req) {
  std::vector<std::string> public_ids;
  for (const TestSpec& t : m.tests)
    if (t.visibility == Visibility::Public) public_ids.push_back(t.id);
  for (const std::string& id : req.only_tests) {
    if (std::find(public_ids.begin(), public_ids.end(), id) == public_ids.end())
      throw InputError(fmt::format("--test '{}': no public test of {} has this id (public: {})",
                                   reports::printable_text(id), m.id, fmt::join(public_ids, ", ")));
  }
}

reports::TestEntry not_run_entry(const TestSpec& t, const std::string& why) {
  reports::TestEntry e = base_entry(t);
  e.status = reports::TestStatus::NotRun;
  e.output = why;
  return e;
}

struct Timing {
  std::string started_at = now_rfc3339();
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

// The score.json record, complete but for the tests and totals.
reports::Score skeleton(const Manifest& m, const GradeRequest& req, const std::string& hash) {
  reports::Score score;
  score.assignment = {m.id, m.title, m.version, hash};
  reports::SubmissionInfo& sub = score.submission;
  sub.student = req.student;
  sub.submitted_at = req.submitted_at;
  sub.submitted_at_source = req.submitted_at ? req.submitted_at_source : "none";
  if (auto due = extended_due(late_rule(m), req.due_extension_days))
    sub.due_at = format_rfc3339(*due);
  score.grader_version = GRADER_VERSION;
  score.mode = req.mode == Mode::Check ? reports::GradingMode::Check : reports::GradingMode::Grade;
  score.host = host_facts(nullptr, req.time_scale);
  return score;
}

void finish(reports::Score& score, const Timing& timing) {
  score.started_at = timing.started_at;
  score.finished_at = now_rfc3339();
  score.duration_seconds = round4(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - timing.start).count());
}

// Stage "score": totals from the tests that ran (check mode: public tests only), then the
// late penalty.
reports::Totals total_up(const std::vector<reports::TestEntry>& tests, const Manifest& m, Mode mode,
                         int64_t days) {
  double raw = 0, max = 0, forgeable_max = 0, forgeable_score = 0;
  for (const reports::TestEntry& t : tests) {
    if (t.status == reports::TestStatus::NotRun && mode == Mode::Check) continue;
    raw += t.score;
    max += t.max_score;
    if (t.trust == Trust::SelfReported) {
      forgeable_max += t.max_score;
      forgeable_score += t.score;
    }
  }
  raw = round4(raw);
  const double penalty = mode == Mode::Grade ? late_penalty(m, days, raw) : 0.0;
  const double final_score = round4(std::max(0.0, raw - penalty));
  // Points the student's own process reports (assignments/README.md): self_reported.
  return {raw,
          round4(max),
          penalty,
          final_score,
          max > 0 ? round4(100.0 * final_score / max) : 0.0,
          round4(forgeable_max),
          round4(forgeable_score)};
}

}  // namespace

std::string assignment_hash(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    // Caches Python or pytest leave behind are not part of the assignment.
    if (it->is_directory() && (name == "__pycache__" || name == ".pytest_cache")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->path().extension() == ".pyc") continue;
    Sha256 content;
    std::ifstream in(it->path(), std::ios::binary);
    std::vector<char> buf(1 << 16);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
      content.update(buf.data(), static_cast<size_t>(in.gcount()));
    files.emplace_back(it->path().lexically_relative(dir).generic_string(), content.hex());
  }
  return tree_hash(std::move(files));
}

fs::path resolve_assignment(const std::string& id_or_path) {
  fs::path given(id_or_path);
  std::error_code ec;
  if (fs::is_regular_file(given / "assignment.toml", ec)) return fs::canonical(given);
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("GRADER_ASSIGNMENTS"); env && *env) roots.emplace_back(env);
  roots.emplace_back(fs::path(GRADER_SOURCE_DIR) / "assignments");
  static const std::regex id_pattern("[a-z0-9_-]+");
  if (std::regex_match(id_or_path, id_pattern)) {
    for (const fs::path& root : roots) {
      if (fs::is_regular_file(root / id_or_path / "assignment.toml", ec))
        return fs::canonical(root / id_or_path);
    }
  }
  std::string searched;
  std::vector<std::string> ids;
  for (const fs::path& root : roots) {
    searched += (searched.empty() ? "" : ", ") + root.string();
    for (const auto& e : fs::directory_iterator(root, ec))
      if (fs::is_regular_file(e.path() / "assignment.toml", ec))
        ids.push_back(e.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  std::string known;
  for (const auto& id : ids) known += (known.empty() ? "" : ", ") + id;
  throw InputError(fmt::format(
      "no assignment '{}': not a folder holding assignment.toml, and no such id under {}{}",
      id_or_path, searched, known.empty() ? "" : " (there: " + known + ")"));
}

namespace {

// Stage "intake" (manifest and request): a bad manifest or request is the caller's problem
// (InputError), before anything is made.
struct CheckedRequest {
  Manifest manifest;
  std::optional<int64_t> submitted;
};

CheckedRequest check_request(const GradeRequest& req) {
  CheckedRequest c{load_manifest(req.assignment_dir), std::nullopt};
  if (!(req.time_scale > 0) || !std::isfinite(req.time_scale))
    throw InputError(fmt::format("time scale {} is not a positive number", req.time_scale));
  scale_time_limits(c.manifest, req.time_scale);
  check_selection(c.manifest, req);
  if (req.submitted_at) {
    std::string problem;
    c.submitted = parse_rfc3339(*req.submitted_at, &problem);
    if (!c.submitted)
      throw InputError(fmt::format("submitted-at '{}' ({}): {}",
                                   reports::printable_text(*req.submitted_at),
                                   req.submitted_at_source, problem));
  }
  check_student_id(req.student, "student id of the grading request");
  std::error_code ec;
  if (!fs::exists(req.submission, ec))
    throw InputError(fmt::format("{}: no such file or folder", req.submission.string()));
  return c;
}

// One grading of a checked request, as the stages run() lists. Every way out goes through
// done(), which removes the scratch folder first and records it when that fails.
class Grading {
 public:
  Grading(const GradeRequest& req, CheckedRequest c, Timing timing)
      : req_(req),
        m_(std::move(c.manifest)),
        timing_(std::move(timing)),
        days_(late_days(m_, c.submitted, req.due_extension_days)),
        score_(skeleton(m_, req, assignment_hash(m_.dir))) {}
  reports::Score run();

 private:
  void open_scratch();
  bool take_submission();  // false: rejected, and graded 0 with the reason
  void run_tests();
  reports::Score done();
  reports::Score ungradable(const std::string& reason) {
    score_.status = reports::ScoreStatus::Ungradable;
    score_.ungradable_reason = reports::printable_text(reason);
    return done();
  }

  const GradeRequest& req_;
  Manifest m_;
  Timing timing_;
  const int64_t days_;
  reports::Score score_;
  std::optional<Scratch> scratch_;
  std::optional<Zygotes> own_zygotes_;  // warm start, where no pool is shared with this grading
  std::optional<GradingContext> ctx_;
};

reports::Score Grading::run() {
  try {
    open_scratch();
    // Warm start: the zygote that forks the Python runs imports while intake and build run.
    Zygotes* zygotes = zygote_pool(m_, req_, own_zygotes_, ctx_->cold_note);
    const ZygoteKey key{m_.python, m_.preload, m_.env};
    if (zygotes) zygotes->warm_up(key);
    if (!take_submission()) return done();
    // Stage "build": a failed build is reported and the tests still run (and then fail).
    if (m_.build) score_.build = run_build(*ctx_, *m_.build);
    if (zygotes) ctx_->zygote = zygotes->socket_for(key, ctx_->cold_note);
    run_tests();
  } catch (const InfrastructureError& e) {
    return ungradable(e.what());
  } catch (const fs::filesystem_error& e) {
    return ungradable(std::string("file system: ") + e.what());
  } catch (const std::bad_alloc&) {
    return ungradable("out of memory on the grading host");
  }
  return done();  // stage "score"
}

void Grading::open_scratch() {
  remove_stale_cgroups();
  scratch_.emplace(req_.scratch_root);
  if (scratch_->traversable())
    score_.warnings = {fmt::format(
        "the sandbox runs without namespaces on this host, so boxes reach their folders by "
        "host path as their own uid: this grading's scratch folder {} was 0711 (others could "
        "pass through it, not list it) instead of 0700",
        scratch_->dir().string())};
  ctx_.emplace(
      GradingContext{m_, SandboxRunner(SandboxRunner::locate()), scratch_->dir(), {}, nullptr, 0});
  ctx_->pytest_select = req_.pytest_select;
}

// Stage "intake" (submission): a rejected submission is graded 0 with the reason, so a batch
// never loses a student; nothing of it runs.
bool Grading::take_submission() {
  try {
    IntakeRules rules{m_.required, m_.allowed, m_.max_bytes, m_.max_files,
                      req_.meta_toml_is_metadata};
    StagedSubmission staged =
        stage_submission(req_.submission, scratch_->dir() / "submission", rules);
    score_.submission.content_hash = staged.content_hash;
    score_.submission.files = static_cast<int64_t>(staged.files);
    score_.submission.bytes = static_cast<int64_t>(staged.bytes);
    if (!staged.ignored.empty()) score_.submission.ignored = ignored_json(staged.ignored);
    ctx_->work_base = staged.dir;
    return true;
  } catch (const IntakeError& e) {
    score_.submission.rejected = reports::printable_text(e.what());
    for (const TestSpec& t : m_.tests) {
      if (selected(t, req_))
        score_.tests.push_back(not_run_entry(t, "Not run: the submission was rejected."));
    }
    return false;
  }
}

// Stages "run tests" and "check" (inside each produce_check test).
void Grading::run_tests() {
  for (const TestSpec& t : m_.tests) {
    if (!selected(t, req_)) {
      score_.tests.push_back(not_run_entry(t, not_selected_reason(t)));
      continue;
    }
    score_.tests.push_back(run_test(*ctx_, t));
  }
  score_.host = host_facts(ctx_->enforced, req_.time_scale);
  score_.host["start"] = start_facts(*ctx_);
}

reports::Score Grading::done() {
  if (scratch_)
    if (std::string error = scratch_->remove(); !error.empty())
      record_cleanup_failure(score_, error);
  score_.submission.late_days = req_.mode == Mode::Grade ? days_ : 0;
  score_.totals = total_up(score_.tests, m_, req_.mode, days_);
  finish(score_, timing_);
  return score_;
}

}  // namespace

reports::Score grade_record(const GradeRequest& req) {
  Timing timing;  // from the start: reading the manifest counts
  CheckedRequest checked = check_request(req);
  return Grading(req, std::move(checked), std::move(timing)).run();
}

json grade(const GradeRequest& req) { return grade_record(req); }

void record_cleanup_failure(reports::Score& score, const std::string& error) {
  spdlog::error("grading clean-up failed: {}", error);
  if (!score.cleanup_error) score.cleanup_error = reports::printable_text(error);  // the first
}

}  // namespace grader
