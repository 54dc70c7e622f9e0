// Course-scale commands: batch, merge, gradebook, slurm.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "grader/batch.h"
#include "grader/cli.h"
#include "grader/gradebook.h"
#include "grader/slurm.h"
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

}  // namespace

void add_batch_commands(CLI::App& app, Context& ctx) {
  // batch
  {
    auto* cmd = app.add_subcommand(
        "batch", "Grade a folder of submissions (plain, Gradescope export, Canvas download)");
    auto o = std::make_shared<batch::Options>();
    auto shard = std::make_shared<std::string>();
    auto extensions = std::make_shared<std::string>();
    cmd->add_option("assignment", o->assignment, "Assignment id or folder")->required();
    cmd->add_option(
           "submissions", o->submissions,
           "Folder or .zip: one entry per student, a Gradescope export or a Canvas download")
        ->required();
    cmd->add_option("--out", o->out,
                    "Output folder (resumable: a rerun skips unchanged submissions)")
        ->required();
    cmd->add_option("-j,--jobs", o->jobs,
                    "Gradings at once (default: CPUs, reduced to fit memory)");
    cmd->add_flag("--force", o->force, "Regrade every submission");
    cmd->add_option("--shard", *shard,
                    "Grade only shard K of N (deterministic by student id), e.g. 2/8");
    cmd->add_option("--extensions", *extensions,
                    "CSV of per-student due-date extensions (student, days[, assignment])");
    add_time_scale_option(cmd, o->time_scale);
    cmd->callback([&ctx, o, shard, extensions] {
      guarded(ctx, "batch", [&] {
        announce_time_scale("batch", o->time_scale);
        if (!shard->empty()) {
          o->shard = batch::parse_shard(*shard);
          if (!o->shard)
            throw InputError(fmt::format("--shard '{}': expected K/N with 1 <= K <= N", *shard));
        }
        if (!extensions->empty()) o->extensions = *extensions;
        o->progress_tty = isatty(STDERR_FILENO) && ctx.verbosity >= 0;
        o->verbosity = ctx.verbosity;
        batch::Result r = batch::run(*o);
        return report(ctx, r, o->out);
      });
    });
  }
  // merge
  {
    auto* cmd = app.add_subcommand(
        "merge", "Fold the outputs of 'batch --shard' runs into one output folder");
    auto dirs = std::make_shared<std::vector<fs::path>>();
    auto out = std::make_shared<fs::path>();
    cmd->add_option("shards", *dirs, "Shard output folders")->required();
    cmd->add_option("--out", *out, "Merged output folder")->required();
    cmd->callback([&ctx, dirs, out] {
      guarded(ctx, "merge", [&] { return report(ctx, batch::merge(*dirs, *out), *out); });
    });
  }
  // gradebook
  {
    auto* cmd = app.add_subcommand(
        "gradebook",
        "Per-student grades over the assignments' batch outputs, and a Canvas import CSV");
    auto o = std::make_shared<GradebookOptions>();
    auto out = std::make_shared<fs::path>();
    auto roster = std::make_shared<std::string>();
    auto extensions = std::make_shared<std::string>();
    cmd->add_option("dirs", o->dirs, "Batch output folders, one per assignment")->required();
    cmd->add_option("--out", *out, "Gradebook CSV (also writes <stem>.canvas.csv and <stem>.json)")
        ->required();
    cmd->add_option("--roster", *roster,
                    "Roster CSV (Student, ID, SIS User ID, SIS Login ID, Section)");
    cmd->add_option("--extensions", *extensions,
                    "CSV of per-student extensions (student, days[, assignment])");
    auto canvas_export = std::make_shared<std::string>();
    auto canvas_ids = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--canvas-export", *canvas_export,
                    "Canvas's gradebook export CSV: the import then fills its existing "
                    "assignment columns (\"Name (ID)\"), scaled to their Points Possible");
    cmd->add_option("--canvas-id", *canvas_ids,
                    "ASSIGNMENT=ID, the Canvas assignment id of one assignment (repeatable)");
    cmd->callback([&ctx, o, out, roster, extensions, canvas_export, canvas_ids] {
      guarded(ctx, "gradebook", [&] {
        if (!roster->empty()) o->roster = *roster;
        if (!extensions->empty()) o->extensions = *extensions;
        if (!canvas_export->empty()) o->canvas_export = *canvas_export;
        for (const std::string& pair : *canvas_ids) {
          const size_t eq = pair.find('=');
          const std::string id = pair.substr(0, eq),
                            value = eq == std::string::npos ? "" : pair.substr(eq + 1);
          if (id.empty() || value.empty() ||
              !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
            throw InputError(fmt::format(
                "--canvas-id '{}': expected ASSIGNMENT=ID with a numeric Canvas id (a1=87568490)",
                pair));
          o->canvas_ids[id] = value;
        }
        json g = build_gradebook(*o);
        for (const json& w : g["warnings"])
          std::cerr << "gradebook: warning: " << w.get<std::string>() << "\n";
        fs::path canvas = reports::write_gradebook(*out, g);
        int missing = 0, attention = 0;
        for (const auto& s : g["students"]) {
          attention += s["needs_attention"].get<bool>();
          for (const auto& [id, c] : s["assignments"].items()) missing += c["status"] == "missing";
        }
        if (ctx.verbosity >= 0) {
          std::cout << fmt::format(
              "gradebook: {} students, {} assignments, {} missing submissions, {} need attention\n",
              g["students"].size(), g["assignments"].size(), missing, attention);
          std::cout << "  " << out->string() << "\n  " << canvas.string() << " (Canvas import)\n";
        }
        return attention ? kExitUngradable : kExitGraded;
      });
    });
  }
  // slurm
  {
    auto* cmd =
        app.add_subcommand("slurm", "Grade as a Slurm job array plus a dependent merge job");
    auto o = std::make_shared<slurm::Options>();
    auto assignment = std::make_shared<std::string>();
    auto extensions = std::make_shared<std::string>();
    auto dry_run = std::make_shared<bool>(false);
    cmd->add_option("assignment", *assignment, "Assignment id or folder")->required();
    cmd->add_option("submissions", o->submissions, "As for 'grader batch'")->required();
    cmd->add_option("--out", o->out, "Merged output folder (shards go to <out>.shards/)")
        ->required();
    cmd->add_option("--shards", o->shards, "Array size N")->check(CLI::Range(1, 10000));
    cmd->add_option("--cpus-per-task", o->cpus_per_task, "CPUs per array task (its -j)")
        ->check(CLI::Range(1, 1024));
    cmd->add_option("--time", o->time_limit, "Time limit per task (Slurm format)");
    cmd->add_option("--partition", o->partition, "Slurm partition");
    cmd->add_option("--mem", o->memory, "Memory per task, e.g. 8G");
    cmd->add_option("--sbatch-arg", o->sbatch_args,
                    "Extra #SBATCH line, e.g. --gres=gpu:1 (repeatable)");
    cmd->add_option("--extensions", *extensions, "As for 'grader batch'");
    cmd->add_flag("--dry-run", *dry_run, "Print the two scripts instead of submitting them");
    cmd->callback([&ctx, o, assignment, extensions, dry_run] {
      guarded(ctx, "slurm", [&] {
        o->assignment = fs::absolute(resolve_assignment(*assignment));
        o->grader = self_path();
        if (!extensions->empty()) o->extensions = *extensions;
        slurm::Scripts s = slurm::make_scripts(*o);
        if (*dry_run) {
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
                                 array_id, o->shards, merge_id);
        std::cout << "  scripts and logs: " << s.dir.string()
                  << "\n  results: " << fs::absolute(o->out).string() << "\n";
        return kExitGraded;
      });
    });
  }
}

}  // namespace grader::cli
