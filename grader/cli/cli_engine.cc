// grader check, grader grade, grader selftest.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "grader/box/remove_tree.h"
#include "grader/box/sandbox_runner.h"
#include "grader/box/zygotes.h"
#include "grader/cli/cli.h"
#include "grader/course/batch.h"
#include "grader/course/variants.h"
#include "grader/engine/engine.h"
#include "grader/engine/intake.h"
#include "grader/engine/manifest.h"
#include "grader/engine/student_id.h"
#include "reports/score.h"

namespace grader::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string paint(const Context& ctx, const std::string& text, const char* code) {
  return ctx.color ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
}

}  // namespace

void add_time_scale_option(CLI::App* cmd, double& scale) {
  cmd->add_option("--time-scale", scale,
                  "Multiply every CPU and wall time limit by this factor, for a slower host "
                  "(default 1; recorded in score.json as host.time_scale)")
      ->envname("GRADER_TIME_SCALE")
      ->check(CLI::Range(0.01, 100.0));
}

void announce_time_scale(const char* command, double scale) {
  if (scale != 1.0)
    std::cerr << fmt::format("grader {}: time limits scaled by {:g} (--time-scale)\n", command,
                             scale);
}

namespace {

std::string trim_line(std::string line, size_t width = 150) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\n')) line.pop_back();
  if (line.size() > width) line = line.substr(0, width - 3) + "...";
  return line;
}

// The first useful lines of a failed test's output: our own notes (limits, missing
// report), pytest's "E " assertion lines, its FAILED summary lines; else the last lines.
std::vector<std::string> useful_lines(const std::string& output, size_t max_lines = 5) {
  std::vector<std::string> lines, notes, errors, failed;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Killed", 0) == 0 || line.rfind("pytest wrote no", 0) == 0 ||
        line.rfind("Outputs rejected", 0) == 0 || line.rfind("Median speedup", 0) == 0 ||
        line.rfind("Your code failed", 0) == 0) {
      notes.push_back(line);
    } else if (line.rfind("E ", 0) == 0) {
      errors.push_back(line);
    } else if (line.rfind("FAILED ", 0) == 0 || line.rfind("ERROR ", 0) == 0) {
      failed.push_back(line);
    }
    if (!line.empty() && line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  std::vector<std::string> out = notes;
  for (const auto* group : {&failed, &errors}) {
    for (const auto& l : *group) {
      if (out.size() < max_lines) out.push_back(l);
    }
  }
  if (out.empty()) {
    size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
    out.assign(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.end());
  }
  if (out.size() > max_lines) out.resize(max_lines);
  for (auto& l : out) l = trim_line(l);
  return out;
}

std::string points(double x) { return fmt::format("{:g}", std::round(x * 100) / 100); }

// "ignored: .pytest_cache/ (pytest cache, 3 files), ..." : what intake left out on purpose.
void print_ignored(const json& score) {
  const json& ignored = score["submission"].value("ignored", json::array());
  if (ignored.empty()) return;
  std::string line;
  for (const json& entry : ignored) {
    std::string detail = entry.value("what", "");
    if (entry.contains("files"))
      detail += fmt::format(", {} file{}", entry["files"].get<uint64_t>(),
                            entry["files"].get<uint64_t>() == 1 ? "" : "s");
    line += fmt::format("{}{} ({})", line.empty() ? "" : ", ", entry.value("path", ""), detail);
  }
  std::cout << "ignored (not part of the submission): " << line << "\n";
}

// Prints the student's view of a check run.
void print_check(const Context& ctx, const json& score) {
  const json& a = score["assignment"];
  std::cout << fmt::format("{} {}: {} (public tests only)\n", a["id"].get<std::string>(),
                           a["version"].get<std::string>(), a["title"].get<std::string>());
  if (score["build"].is_object() && score["build"]["verdict"] != "ok") {
    std::cout << paint(ctx, "build failed", "31") << " ("
              << score["build"]["verdict"].get<std::string>() << ")\n";
    for (const auto& l : useful_lines(score["build"]["output"].get<std::string>()))
      std::cout << "      " << l << "\n";
  }
  print_ignored(score);
  size_t width = 4;
  for (const json& t : score["tests"]) width = std::max(width, t["name"].get<std::string>().size());
  width = std::min<size_t>(width, 60);  // for alignment; a longer name is shown whole
  int not_run = 0, not_selected = 0;
  for (const json& t : score["tests"]) {
    std::string status = t["status"];
    if (status == "not_run") {
      ++not_run;
      not_selected += t.value("visibility", "") == "public";
      continue;
    }
    std::string label = status == "passed"    ? paint(ctx, "PASS", "32")
                        : status == "partial" ? paint(ctx, "PART", "33")
                                              : paint(ctx, "FAIL", "31");
    std::string cases;
    if (t.contains("cases"))
      cases = fmt::format("  ({}/{} cases)", t["cases"]["passed"].get<int64_t>(),
                          t["cases"]["total"].get<int64_t>());
    std::cout << fmt::format("  {}  {:<{}}  {:>6}/{:<6}{}\n", label, t["name"].get<std::string>(),
                             width, points(t["score"].get<double>()),
                             points(t["max_score"].get<double>()), cases);
    if (status != "passed" && ctx.verbosity >= 0) {
      for (const auto& l :
           useful_lines(t["output"].get<std::string>(), ctx.verbosity > 0 ? 20 : 5)) {
        std::cout << "        " << l << "\n";
      }
    }
  }
  const json& totals = score["totals"];
  std::cout << fmt::format("Public tests: {} of {} points\n", points(totals["raw"].get<double>()),
                           points(totals["max"].get<double>()));
  if (not_run - not_selected > 0)
    std::cout << fmt::format(
        "{} hidden tests were not run: passing these does not guarantee your grade\n",
        not_run - not_selected);
  if (not_selected > 0)
    std::cout << fmt::format("{} public tests were not selected (--test)\n", not_selected);
}

// `grade` and `check` of a folder that holds meta.toml (the bundled samples): like batch, it
// is metadata, never graded; its submitted_at counts unless --submitted-at is given.
void use_meta_toml(GradeRequest& req) {
  fs::path meta = req.submission / "meta.toml";
  std::error_code ec;
  if (!fs::is_directory(req.submission, ec) || !fs::is_regular_file(fs::symlink_status(meta, ec)))
    return;
  req.meta_toml_is_metadata = true;
  std::vector<std::string> warnings;
  batch::SubmissionMeta m = batch::read_meta_toml(meta, warnings);
  for (const std::string& w : warnings) std::cerr << "warning: " << w << "\n";
  if (!req.submitted_at && m.submitted_at) {
    req.submitted_at = m.submitted_at;
    req.submitted_at_source = "metadata";
  }
}

// --out must be a folder (made if missing): an existing file there is the caller's mistake.
void check_out_folder(const fs::path& out) {
  std::error_code ec;
  fs::file_status st = fs::status(out, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw InputError(
        fmt::format("--out '{}': exists and is not a folder (score.json and "
                    "results.json are written into it)",
                    out.string()));
}

struct SelftestJob {
  std::string assignment, label;  // label: solution | handout | variants/<name>
  fs::path assignment_dir, submission;
  fs::path patch;    // variants: the patch opened over solution/ into the scratch folder
  std::string rule;  // "= 100%", "<= 10%", "= 88"
  double expected = 0;
  json score;
  std::string error;
  bool ok = false;
  double seconds = 0;
};

void evaluate(SelftestJob& job, double max_points) {
  if (!job.error.empty() || job.score["status"] != "graded") {
    if (job.error.empty())
      job.error = "ungradable: " + job.score["ungradable_reason"].get<std::string>();
    return;
  }
  double got = job.score["totals"]["final"].get<double>();
  if (job.label == "solution")
    job.ok = std::abs(got - max_points) <= 0.01;
  else if (job.label == "handout")
    job.ok = got <= 0.10 * max_points + 1e-9;
  else
    job.ok = std::abs(got - job.expected) <= 0.01;
}

void run_selftest_job(SelftestJob& job, const fs::path& scratch, double time_scale,
                      Zygotes& zygotes) {
  auto start = std::chrono::steady_clock::now();
  try {
    GradeRequest req;
    req.assignment_dir = job.assignment_dir;
    req.student = safe_student_id(job.assignment + "-" + job.label);  // "a1-variants_slow"
    req.mode = Mode::Grade;
    req.scratch_root = scratch;
    req.time_scale = time_scale;
    req.zygotes = &zygotes;
    fs::path staged;
    if (!job.patch.empty()) {
      std::string pattern = (scratch / "variant-XXXXXX").string();
      if (!mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a staging folder under " + scratch.string());
      staged = fs::path(pattern) / "submission";
      open_variant(job.assignment_dir, job.patch, staged);
      req.submission = staged;
    } else {
      req.submission = job.submission;
    }
    job.score = grade(req);
    if (!staged.empty()) remove_tree_or_throw(staged.parent_path());
  } catch (const std::exception& e) {
    job.error = e.what();
  }
  job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A warning per hidden or after_due_date test whose points the student's code can forge,
// and how many of the manifest's points rest on self_reported tests.
void print_trust_warnings(const Context& ctx, const Manifest& m) {
  double forgeable = 0;
  std::string ids;
  for (const TestSpec& t : m.tests) {
    if (trust_of(t) != Trust::SelfReported) continue;
    forgeable += t.points;
    ids += (ids.empty() ? "" : ", ") + t.id;
    if (t.visibility == Visibility::Public) continue;
    std::cout << paint(ctx, "warning", "33")
              << fmt::format(
                     ": {} test {} ({}, {} points) is self_reported: the student's code "
                     "can forge its points unseen (student_can_forge = true)\n",
                     m.id, t.id, reports::name(t.visibility), points(t.points));
  }
  std::cout << fmt::format("{}: {} of {} points rest on self_reported tests{}\n", m.id,
                           points(forgeable), points(m.points),
                           ids.empty() ? "" : " (" + ids + ")");
}

// Per perf test of a grading: each pair's speedup, the median and its margin to every
// threshold, so that an author sees how close the reference and the variants come.
void print_perf_margins(const SelftestJob& job, const Manifest& m) {
  if (!job.score.is_object() || !job.score.contains("tests")) return;
  for (const json& t : job.score["tests"]) {
    if (!t.contains("perf") || !t["perf"].is_object()) continue;
    const json& perf = t["perf"];
    std::string pairs;
    for (const json& p : perf.value("pairs", json::array())) {
      pairs += p.value("valid", false) ? fmt::format(" {:.2f}x", p["speedup"].get<double>())
                                       : std::string(" noise");
      if (p.value("retries", 0) > 0) pairs += fmt::format("(r{})", p["retries"].get<int>());
      // With warm_iterations, which counts the pair ran at: a fall-back to the cold ones shows.
      if (perf.contains("warm_iterations") && p.contains("iterations"))
        pairs += fmt::format("@{}", p["iterations"][1].get<int64_t>());
    }
    if (pairs.empty()) continue;  // not measured (the student's first run failed)
    std::string line = fmt::format("  perf {} {} {}: pairs{}", job.assignment, job.label,
                                   t["id"].get<std::string>(), pairs);
    if (perf["median"].is_number()) {
      double median = perf["median"].get<double>();
      line += fmt::format("; median {:.2f}x{}", median,
                          perf.value("saturated", false) ? " (saturated)" : "");
      for (const TestSpec& spec : m.tests) {
        if (spec.id != t["id"]) continue;
        line += "; margin";
        for (const auto& [at_least, fraction] : spec.thresholds)
          line += fmt::format(" {}x: {:+.0f}%", at_least, 100 * (median / at_least - 1));
      }
    }
    std::cout << line << "\n";
  }
}

fs::path assignments_root() {
  if (const char* env = std::getenv("GRADER_ASSIGNMENTS"); env && *env) return env;
  return fs::path(GRADER_SOURCE_DIR) / "assignments";
}

// The assignments `grader selftest` names: ids or folders, or every one under
// assignments_root() with --all.
std::vector<std::string> selftest_ids(std::vector<std::string> ids, bool all) {
  if (all) {
    fs::path root = assignments_root();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      if (fs::is_regular_file(entry.path() / "assignment.toml"))
        ids.push_back(entry.path().string());
    }
    std::sort(ids.begin(), ids.end());
    if (ids.empty()) throw InputError(fmt::format("no assignments under {}", root.string()));
  }
  if (ids.empty()) throw InputError("name an assignment or use --all");
  return ids;
}

// One assignment's gradings: the solution, the starter and every variant.
void add_selftest_jobs(const Manifest& m, std::vector<SelftestJob>& work) {
  auto add = [&](const std::string& label, const fs::path& sub, const std::string& rule,
                 double expected, const fs::path& patch) {
    SelftestJob job;
    job.assignment = m.id;
    job.label = label;
    job.assignment_dir = m.dir;
    job.submission = sub;
    job.rule = rule;
    job.expected = expected;
    job.patch = patch;
    work.push_back(std::move(job));
  };
  if (!fs::is_directory(m.dir / "solution"))
    throw InputError(fmt::format("{}: no solution/ folder", m.dir.string()));
  add("solution", m.dir / "solution", "= " + points(m.points), m.points, {});
  if (fs::is_directory(m.dir / "handout"))
    add("handout", m.dir / "handout", "<= " + points(0.1 * m.points), 0, {});
  for (const Variant& v : list_variants(m.dir))
    add("variants/" + v.name, {}, "= " + points(v.score), v.score, v.patch);
}

// Runs the gradings `jobs` at a time, sharing one zygote per preload, in a scratch folder
// removed afterwards.
void run_selftest_jobs(const Context& ctx, std::vector<SelftestJob>& work,
                       const std::map<std::string, Manifest>& manifests, int jobs,
                       double time_scale) {
  std::string pattern = (fs::temp_directory_path() / "grader-selftest-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder");
  fs::path scratch = pattern;
  std::atomic<size_t> next{0};
  std::mutex print_mutex;
  Zygotes zygotes(SandboxRunner::locate());
  auto worker = [&] {
    for (size_t i; (i = next++) < work.size();) {
      run_selftest_job(work[i], scratch, time_scale, zygotes);
      evaluate(work[i], manifests.at(work[i].assignment).points);
      if (ctx.verbosity > 0) {
        std::lock_guard lock(print_mutex);
        std::cerr << fmt::format("  done {} {} ({:.1f} s)\n", work[i].assignment, work[i].label,
                                 work[i].seconds);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < std::max(1, jobs); ++k) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (std::string error = remove_tree(scratch); !error.empty())
    std::cerr << "grader selftest: cannot remove " << error << "\n";
}

// Why a grading did not get its expected score: its error, a rejection, the tests it lost.
void print_mismatch(const SelftestJob& job) {
  if (!job.error.empty()) std::cout << "       " << trim_line(job.error, 200) << "\n";
  if (!job.score.is_object()) return;
  if (job.score.contains("submission") && job.score["submission"]["rejected"].is_string())
    std::cout << "       rejected: " << trim_line(job.score["submission"]["rejected"], 200) << "\n";
  if (!job.score.contains("tests")) return;
  for (const json& t : job.score["tests"]) {
    if (t["score"].get<double>() >= t["max_score"].get<double>()) continue;
    std::cout << fmt::format("       lost {} on {} ({}, {})\n",
                             points(t["max_score"].get<double>() - t["score"].get<double>()),
                             t["id"].get<std::string>(), t["status"].get<std::string>(),
                             t["verdict"].is_string() ? t["verdict"].get<std::string>() : "-");
  }
}

// The table of gradings; returns how many did not get their expected score.
int print_selftest_table(const Context& ctx, const std::vector<SelftestJob>& work,
                         const std::map<std::string, Manifest>& manifests) {
  int mismatches = 0;
  std::cout << fmt::format("{:<6} {:<32} {:>10} {:>10} {:>8} {:>7}  {}\n", "id", "submission",
                           "expected", "got", "self-rep", "time", "result");
  for (const SelftestJob& job : work) {
    const bool totals = job.score.is_object() && job.score.contains("totals");
    std::string got = totals ? points(job.score["totals"]["final"].get<double>()) : "-";
    // Of the points got, those earned on self_reported tests.
    std::string forgeable =
        totals ? points(job.score["totals"].value("self_reported_score", 0.0)) : "-";
    std::string result = job.ok ? paint(ctx, "ok", "32") : paint(ctx, "MISMATCH", "31");
    std::cout << fmt::format("{:<6} {:<32} {:>10} {:>10} {:>8} {:>6.1f}s  {}\n", job.assignment,
                             job.label, job.rule, got, forgeable, job.seconds, result);
    print_perf_margins(job, manifests.at(job.assignment));
    if (job.ok) continue;
    ++mismatches;
    print_mismatch(job);
  }
  return mismatches;
}

int selftest(const Context& ctx, const std::vector<std::string>& named, bool all, int jobs,
             double time_scale) {
  std::vector<SelftestJob> work;
  std::map<std::string, Manifest> manifests;
  for (const std::string& id : selftest_ids(named, all)) {
    Manifest m = load_manifest(resolve_assignment(id));
    print_trust_warnings(ctx, m);
    add_selftest_jobs(m, work);
    manifests.emplace(m.id, std::move(m));
  }
  run_selftest_jobs(ctx, work, manifests, jobs, time_scale);
  const int mismatches = print_selftest_table(ctx, work, manifests);
  std::cout << fmt::format("{} of {} self-test gradings as expected\n", work.size() - mismatches,
                           work.size());
  return mismatches ? 1 : 0;
}

// The two arguments of check and grade: the assignment and the submission to grade.
void add_assignment_and_submission(CLI::App* cmd, std::string& assignment,
                                   std::string& submission) {
  cmd->add_option("assignment", assignment,
                  "Assignment id (under assignments/ or $GRADER_ASSIGNMENTS) or folder")
      ->required();
  cmd->add_option("submission", submission, "Submission folder, .zip or .tar.gz")->required();
}

// What `grader check` was given.
struct CheckOptions {
  std::string assignment, submission, junit, pytest_select;
  std::vector<std::string> only_tests;
  std::optional<double> min_score;
  bool json_out = false;
  double time_scale = 1.0;
};

// Grades a submission on the public tests and prints the student's view; the exit status
// says whether they passed (or earned at least --min-score).
int run_check(const Context& ctx, const CheckOptions& o) {
  GradeRequest req;
  req.assignment_dir = resolve_assignment(o.assignment);
  req.submission = o.submission;
  req.mode = Mode::Check;
  req.only_tests = o.only_tests;
  req.pytest_select = o.pytest_select;
  use_meta_toml(req);
  req.time_scale = o.time_scale;
  announce_time_scale("check", o.time_scale);
  json score = grade(req);
  if (!o.junit.empty()) reports::write_junit(o.junit, score);
  if (o.json_out) {
    std::cout << score.dump(2) << "\n";
  } else if (score["status"] != "graded") {
    std::cerr << "grader check: could not grade (not your fault): "
              << score["ungradable_reason"].get<std::string>() << "\n";
  } else if (score["submission"]["rejected"].is_string()) {
    std::cerr << "grader check: submission rejected: "
              << score["submission"]["rejected"].get<std::string>() << "\n";
  } else {
    print_check(ctx, score);
  }
  if (score["status"] != "graded") return kExitUngradable;
  if (score["submission"]["rejected"].is_string()) return kExitUsage;
  if (o.min_score)
    return score["totals"]["final"].get<double>() < *o.min_score ? kExitBelowMinScore : kExitGraded;
  for (const json& t : score["tests"]) {
    if (t["status"] != "passed" && t["status"] != "not_run") return kExitBelowMinScore;
  }
  return kExitGraded;
}

// `grader check`: what a student runs before submitting.
void add_check_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "check", "Pre-check a submission against the public tests (what a student runs)");
  auto o = std::make_shared<CheckOptions>();
  add_assignment_and_submission(cmd, o->assignment, o->submission);
  cmd->add_flag("--json", o->json_out, "Print the score.json object instead of the table");
  cmd->add_option("--junit", o->junit, "Also write JUnit XML of the public tests to this file");
  cmd->add_option("--min-score", o->min_score,
                  "Exit 0 when the public tests earn at least this many points, else 1 "
                  "(default: exit 1 when any public test did not pass)");
  cmd->add_option("--test", o->only_tests, "Run only this public test (by id; repeatable)");
  cmd->add_option("-k", o->pytest_select,
                  "Run only the pytest cases that match this expression (pytest's -k)");
  add_time_scale_option(cmd, o->time_scale);
  cmd->footer(
      "Exit status: 0 all public tests passed (or at least --min-score), 1 some failed (or "
      "below --min-score), 2 bad input (also a rejected submission), 3 could not be graded.");
  cmd->callback([&ctx, o] { guarded(ctx, "check", [&] { return run_check(ctx, *o); }); });
}

// What `grader grade` was given.
struct GradeOptions {
  std::string assignment, submission, out, student = "local", submitted_at, junit;
  std::optional<double> min_score;
  bool json_out = false;
  double time_scale = 1.0;
};

// The request for a full grading; --submitted-at must be RFC 3339.
GradeRequest grade_request(const GradeOptions& o) {
  GradeRequest req;
  req.assignment_dir = resolve_assignment(o.assignment);
  req.submission = o.submission;
  req.student = o.student;
  if (!o.submitted_at.empty()) {
    std::string problem;
    if (!parse_rfc3339(o.submitted_at, &problem))
      throw InputError(
          fmt::format("--submitted-at '{}': {}", reports::printable_text(o.submitted_at), problem));
    req.submitted_at = o.submitted_at;
    req.submitted_at_source = "option";
  }
  req.mode = Mode::Grade;
  use_meta_toml(req);
  req.time_scale = o.time_scale;
  return req;
}

// The one-line summary of a grading (and with -v a line per test).
void print_grade_summary(const Context& ctx, const GradeOptions& o, const json& score,
                         const fs::path& score_json) {
  const json& totals = score["totals"];
  std::string late;
  if (totals["late_penalty"].get<double>() > 0) {
    late = fmt::format(" (late {} day(s): -{})", score["submission"]["late_days"].get<int64_t>(),
                       points(totals["late_penalty"].get<double>()));
  }
  std::cout << fmt::format("{} {}: {} of {} points{}; wrote {}\n",
                           score["assignment"]["id"].get<std::string>(), o.student,
                           points(totals["final"].get<double>()),
                           points(totals["max"].get<double>()), late, score_json.string());
  if (ctx.verbosity > 0) {
    for (const json& t : score["tests"]) {
      std::cout << fmt::format("  {:<8} {:<32} {:>6}/{}\n", t["status"].get<std::string>(),
                               t["id"].get<std::string>(), points(t["score"].get<double>()),
                               points(t["max_score"].get<double>()));
    }
  }
}

// Grades a submission with every test and writes score.json and results.json into --out.
int run_grade(const Context& ctx, const GradeOptions& o) {
  check_student_id(o.student, "--student");
  check_out_folder(o.out);
  GradeRequest req = grade_request(o);
  announce_time_scale("grade", o.time_scale);
  json score = grade(req);
  fs::path out(o.out);
  reports::write_score_json(out / "score.json", score);
  reports::write_gradescope_results(out / "results.json", score,
                                    load_manifest(req.assignment_dir).gradescope_hidden_visibility);
  if (!o.junit.empty()) reports::write_junit(o.junit, score);
  const json& totals = score["totals"];
  if (o.json_out) std::cout << score.dump(2) << "\n";
  if (score["status"] != "graded") {
    std::cerr << "grader grade: ungradable: " << score["ungradable_reason"].get<std::string>()
              << "\n";
    return kExitUngradable;
  }
  if (ctx.verbosity >= 0 && !o.json_out) print_grade_summary(ctx, o, score, out / "score.json");
  if (score["submission"]["rejected"].is_string()) {
    std::cerr << "grader grade: submission rejected: "
              << score["submission"]["rejected"].get<std::string>() << "\n";
    return kExitUsage;
  }
  if (o.min_score && totals["final"].get<double>() < *o.min_score) return kExitBelowMinScore;
  return kExitGraded;
}

// `grader grade`: one submission, every test, the files Gradescope reads.
void add_grade_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "grade", "Grade one submission with every test; write score.json and results.json");
  auto o = std::make_shared<GradeOptions>();
  add_assignment_and_submission(cmd, o->assignment, o->submission);
  cmd->add_option("--out", o->out, "Folder for score.json and results.json (Gradescope)")
      ->required();
  cmd->add_option("--student", o->student, "Student id recorded in the score (default: local)");
  cmd->add_option("--submitted-at", o->submitted_at,
                  "Submission time, RFC 3339 (for the late penalty)");
  cmd->add_option("--junit", o->junit, "Also write JUnit XML to this file");
  cmd->add_option("--min-score", o->min_score,
                  "Exit 1 when the final score is below this many points");
  cmd->add_flag("--json", o->json_out,
                "Print the score.json object on stdout instead of the one-line summary");
  add_time_scale_option(cmd, o->time_scale);
  cmd->footer(
      "Exit status: 0 graded (and at least --min-score), 1 graded below --min-score, 2 bad input "
      "or "
      "usage (a rejected submission is still written, graded 0), 3 ungradable.");
  cmd->callback([&ctx, o] { guarded(ctx, "grade", [&] { return run_grade(ctx, *o); }); });
}

// `grader selftest`: an author's check that the assignment grades its own reference
// submissions as expected.
void add_selftest_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "selftest",
      "Grade each assignment's solution (must get 100%), starter (at most 10%) and "
      "variants (exactly their variants/expected.toml score)");
  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto jobs = std::make_shared<int>(2);
  auto scale = std::make_shared<double>(1.0);
  cmd->add_option("assignment", *ids, "Assignment ids or folders");
  cmd->add_flag("--all", *all, "Every assignment under assignments/ (or $GRADER_ASSIGNMENTS)");
  cmd->add_option("-j,--jobs", *jobs, "Gradings at once (default 2)")->check(CLI::PositiveNumber);
  add_time_scale_option(cmd, *scale);
  cmd->callback([&ctx, ids, all, jobs, scale] {
    guarded(ctx, "selftest", [&] {
      announce_time_scale("selftest", *scale);
      return selftest(ctx, *ids, *all, *jobs, *scale);
    });
  });
}

}  // namespace

void add_engine_commands(CLI::App& app, Context& ctx) {
  add_check_command(app, ctx);
  add_grade_command(app, ctx);
  add_selftest_command(app, ctx);
}

}  // namespace grader::cli
