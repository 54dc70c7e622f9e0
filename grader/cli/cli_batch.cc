// Course-scale commands: batch, merge, gradebook, slurm.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "grader/cli/cli.h"
#include "grader/course/batch.h"
#include "grader/course/gradebook.h"
#include "grader/course/slurm.h"
#include "reports/gradebook_writer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace grader::cli {
namespace {

int report(const Context& ctx, const batch::Result& r, const fs::path& out) {
  std::ifstream in(out / "summary.json");
  json s = json::parse(in, nullptr, false);
  if (ctx.verbosity >= 0 && !s.is_discarded()) {
    const json& p = s["percent"];
    std::cout << fmt::format(
        "{}: {} submissions, {} graded ({} unchanged and skipped), {} ungradable\n",
        s["assignment"].value("id", "?"), r.total, r.total - r.ungradable, r.skipped, r.ungradable);
    if (p["median"].is_number()) {
      std::cout << fmt::format(
          "  percent: median {:.1f}, mean {:.1f}, min {:.1f}, max {:.1f}; {} runs hit a limit\n",
          p["median"].get<double>(), p["mean"].get<double>(), p["min"].get<double>(),
          p["max"].get<double>(), s["counts"]["limit_hits"].get<int>());
    }
  }
  if (!r.ungradable_list.empty()) {
    std::cout << "ungradable (infrastructure failures, not zeros; rerun to retry):\n";
    for (const auto& [student, reason] : r.ungradable_list)
      std::cout << "  " << student << ": " << reason << "\n";
  }
  // Rejected uploads are graded 0: a TA must see them, not find a plain "graded 0".
  if (!s.is_discarded() && !s.value("rejected", json::array()).empty()) {
    std::cout << fmt::format("rejected ({}, graded 0; the student must resubmit):\n",
                             s["rejected"].size());
    for (const json& x : s["rejected"])
      std::cout << "  " << x.value("student", "?") << ": " << x.value("reason", "?") << "\n";
  }
  if (ctx.verbosity >= 0) std::cout << "summary: " << r.summary_html << "\n";
  return r.ungradable ? kExitUngradable : kExitGraded;
}

// The first executable `name` on PATH; empty when there is none.
fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0 && fs::is_regular_file(candidate))
      return candidate;
    start = end + 1;
  }
  return {};
}

fs::path self_path() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("grader") : p;
}

// What `grader batch` was given: the batch's options, and the text of those parsed later.
struct BatchCommand {
  batch::Options batch;
  std::string shard, extensions;
};

// Grades every submission (or one shard of them) into --out and reports the counts.
int run_batch(const Context& ctx, const BatchCommand& c) {
  batch::Options o = c.batch;
  announce_time_scale("batch", o.time_scale);
  if (!c.shard.empty()) {
    o.shard = batch::parse_shard(c.shard);
    if (!o.shard)
      throw InputError(fmt::format("--shard '{}': expected K/N with 1 <= K <= N", c.shard));
  }
  if (!c.extensions.empty()) o.extensions = c.extensions;
  o.progress_tty = isatty(STDERR_FILENO) && ctx.verbosity >= 0;
  o.verbosity = ctx.verbosity;
  batch::Result r = batch::run(o);
  return report(ctx, r, o.out);
}

// `grader batch`: a whole course's submissions to one assignment.
void add_batch_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "batch", "Grade a folder of submissions (plain, Gradescope export, Canvas download)");
  auto c = std::make_shared<BatchCommand>();
  batch::Options& o = c->batch;
  cmd->add_option("assignment", o.assignment, "Assignment id or folder")->required();
  cmd->add_option("submissions", o.submissions,
                  "Folder or .zip: one entry per student, a Gradescope export or a Canvas download")
      ->required();
  cmd->add_option("--out", o.out, "Output folder (resumable: a rerun skips unchanged submissions)")
      ->required();
  cmd->add_option("-j,--jobs", o.jobs, "Gradings at once (default: CPUs, reduced to fit memory)");
  cmd->add_flag("--force", o.force, "Regrade every submission");
  cmd->add_option("--shard", c->shard,
                  "Grade only shard K of N (deterministic by student id), e.g. 2/8");
  cmd->add_option("--extensions", c->extensions,
                  "CSV of per-student due-date extensions (student, days[, assignment])");
  add_time_scale_option(cmd, o.time_scale);
  cmd->callback([&ctx, c] { guarded(ctx, "batch", [&] { return run_batch(ctx, *c); }); });
}

// `grader merge`: the shards of a sharded batch, folded as if one machine had graded them.
void add_merge_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("merge",
                                 "Fold the outputs of 'batch --shard' runs into one output folder");
  auto dirs = std::make_shared<std::vector<fs::path>>();
  auto out = std::make_shared<fs::path>();
  cmd->add_option("shards", *dirs, "Shard output folders")->required();
  cmd->add_option("--out", *out, "Merged output folder")->required();
  cmd->callback([&ctx, dirs, out] {
    guarded(ctx, "merge", [&] { return report(ctx, batch::merge(*dirs, *out), *out); });
  });
}

// What `grader gradebook` was given: the gradebook's options, and the text of those parsed
// later.
struct GradebookCommand {
  GradebookOptions gradebook;
  fs::path out;
  std::string roster, extensions, canvas_export;
  std::vector<std::string> canvas_ids;
};

// --canvas-id ASSIGNMENT=ID into `options`; the id must be Canvas's number.
void add_canvas_id(GradebookOptions& options, const std::string& pair) {
  const size_t eq = pair.find('=');
  const std::string id = pair.substr(0, eq),
                    value = eq == std::string::npos ? "" : pair.substr(eq + 1);
  if (id.empty() || value.empty() ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw InputError(fmt::format(
        "--canvas-id '{}': expected ASSIGNMENT=ID with a numeric Canvas id (a1=87568490)", pair));
  options.canvas_ids[id] = value;
}

// Writes the gradebook and its Canvas import; students who need attention make it exit 3.
int run_gradebook(const Context& ctx, const GradebookCommand& c) {
  GradebookOptions o = c.gradebook;
  if (!c.roster.empty()) o.roster = c.roster;
  if (!c.extensions.empty()) o.extensions = c.extensions;
  if (!c.canvas_export.empty()) o.canvas_export = c.canvas_export;
  for (const std::string& pair : c.canvas_ids) add_canvas_id(o, pair);
  json g = build_gradebook(o);
  for (const json& w : g["warnings"])
    std::cerr << "gradebook: warning: " << w.get<std::string>() << "\n";
  fs::path canvas = reports::write_gradebook(c.out, g);
  int missing = 0, attention = 0;
  for (const auto& s : g["students"]) {
    attention += s["needs_attention"].get<bool>();
    for (const auto& [id, assignment] : s["assignments"].items())
      missing += assignment["status"] == "missing";
  }
  if (ctx.verbosity >= 0) {
    std::cout << fmt::format(
        "gradebook: {} students, {} assignments, {} missing submissions, {} need attention\n",
        g["students"].size(), g["assignments"].size(), missing, attention);
    std::cout << "  " << c.out.string() << "\n  " << canvas.string() << " (Canvas import)\n";
  }
  return attention ? kExitUngradable : kExitGraded;
}

// `grader gradebook`: the course's grades per student, over every assignment.
void add_gradebook_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "gradebook",
      "Per-student grades over the assignments' batch outputs, and a Canvas import CSV");
  auto c = std::make_shared<GradebookCommand>();
  cmd->add_option("dirs", c->gradebook.dirs, "Batch output folders, one per assignment")
      ->required();
  cmd->add_option("--out", c->out, "Gradebook CSV (also writes <stem>.canvas.csv and <stem>.json)")
      ->required();
  cmd->add_option("--roster", c->roster,
                  "Roster CSV (Student, ID, SIS User ID, SIS Login ID, Section)");
  cmd->add_option("--extensions", c->extensions,
                  "CSV of per-student extensions (student, days[, assignment])");
  cmd->add_option("--canvas-export", c->canvas_export,
                  "Canvas's gradebook export CSV: the import then fills its existing "
                  "assignment columns (\"Name (ID)\"), scaled to their Points Possible");
  cmd->add_option("--canvas-id", c->canvas_ids,
                  "ASSIGNMENT=ID, the Canvas assignment id of one assignment (repeatable)");
  cmd->callback([&ctx, c] { guarded(ctx, "gradebook", [&] { return run_gradebook(ctx, *c); }); });
}

// What `grader slurm` was given: the jobs' options, and the text of those resolved later.
struct SlurmCommand {
  slurm::Options slurm;
  std::string assignment, extensions;
  bool dry_run = false;
};

// Prints the two job scripts (--dry-run) or submits them with sbatch.
int run_slurm(const SlurmCommand& c) {
  slurm::Options o = c.slurm;
  o.assignment = fs::absolute(resolve_assignment(c.assignment));
  o.grader = self_path();
  if (!c.extensions.empty()) o.extensions = c.extensions;
  slurm::Scripts s = slurm::make_scripts(o);
  if (c.dry_run) {
    std::cout << "# " << (s.dir / "grade.sbatch").string() << "\n" << s.array << "\n";
    std::cout << "# " << (s.dir / "merge.sbatch").string()
              << " (--dependency=afterok:<array job>)\n"
              << s.merge;
    return kExitGraded;
  }
  fs::path sbatch = find_on_path("sbatch");
  if (sbatch.empty()) {
    throw InputError("sbatch is not on PATH; use --dry-run to print the scripts");
  }
  auto [array_id, merge_id] = slurm::submit(s, sbatch.string());
  std::cout << fmt::format("submitted array job {} ({} tasks) and merge job {} (afterok)\n",
                           array_id, o.shards, merge_id);
  std::cout << "  scripts and logs: " << s.dir.string()
            << "\n  results: " << fs::absolute(o.out).string() << "\n";
  return kExitGraded;
}

// `grader slurm`: a batch spread over a cluster's nodes.
void add_slurm_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("slurm", "Grade as a Slurm job array plus a dependent merge job");
  auto c = std::make_shared<SlurmCommand>();
  slurm::Options& o = c->slurm;
  cmd->add_option("assignment", c->assignment, "Assignment id or folder")->required();
  cmd->add_option("submissions", o.submissions, "As for 'grader batch'")->required();
  cmd->add_option("--out", o.out, "Merged output folder (shards go to <out>.shards/)")->required();
  cmd->add_option("--shards", o.shards, "Array size N")->check(CLI::Range(1, 10000));
  cmd->add_option("--cpus-per-task", o.cpus_per_task, "CPUs per array task (its -j)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--time", o.time_limit, "Time limit per task (Slurm format)");
  cmd->add_option("--partition", o.partition, "Slurm partition");
  cmd->add_option("--mem", o.memory, "Memory per task, e.g. 8G");
  cmd->add_option("--sbatch-arg", o.sbatch_args,
                  "Extra #SBATCH line, e.g. --gres=gpu:1 (repeatable)");
  cmd->add_option("--extensions", c->extensions, "As for 'grader batch'");
  cmd->add_flag("--dry-run", c->dry_run, "Print the two scripts instead of submitting them");
  cmd->callback([&ctx, c] { guarded(ctx, "slurm", [&] { return run_slurm(*c); }); });
}

}  // namespace

void add_batch_commands(CLI::App& app, Context& ctx) {
  add_batch_command(app, ctx);
  add_merge_command(app, ctx);
  add_gradebook_command(app, ctx);
  add_slurm_command(app, ctx);
}

}  // namespace grader::cli
