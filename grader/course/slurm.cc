#include "grader/course/slurm.h"

#include <fmt/format.h>

#include <stdexcept>

#include "common/spawn.h"
#include "reports/atomic.h"

namespace fs = std::filesystem;

namespace grader::slurm {

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

Scripts make_scripts(const Options& o) {
  Scripts s;
  fs::path out = fs::absolute(o.out).lexically_normal();
  s.dir = out.string() + ".shards";
  std::string id = o.assignment.filename().string();
  std::string common;
  if (!o.partition.empty()) common += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time_limit.empty()) common += "#SBATCH --time=" + o.time_limit + "\n";
  for (const auto& a : o.sbatch_args) common += "#SBATCH " + a + "\n";

  std::string ext =
      o.extensions ? " --extensions " + shell_quote(fs::absolute(*o.extensions).string()) : "";
  s.array = fmt::format(
      "#!/bin/bash\n"
      "# grader batch as a Slurm job array: task K grades shard K/{n} of {id}.\n"
      "#SBATCH --job-name=grade-{id}\n"
      "#SBATCH --array=1-{n}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task={cpus}\n"
      "{mem}"
      "#SBATCH --output={logs}/grade_%A_%a.out\n"
      "{common}"
      "set -u\n"
      "K=\"$SLURM_ARRAY_TASK_ID\"\n"
      "{grader} -q batch {assignment} {subs} --out {dir}/\"$K\" --shard \"$K/{n}\" -j "
      "\"${{SLURM_CPUS_PER_TASK:-1}}\"{ext}\n"
      "status=$?\n"
      "# 3: the shard is complete but some submissions are ungradable; merge lists them.\n"
      "if [ \"$status\" -eq 3 ]; then exit 0; fi\n"
      "exit \"$status\"\n",
      fmt::arg("n", o.shards), fmt::arg("id", id), fmt::arg("cpus", o.cpus_per_task),
      fmt::arg("mem", o.memory.empty() ? "" : "#SBATCH --mem=" + o.memory + "\n"),
      fmt::arg("logs", s.dir.string() + "/logs"), fmt::arg("common", common),
      fmt::arg("grader", shell_quote(o.grader.string())),
      fmt::arg("assignment", shell_quote(o.assignment.string())),
      fmt::arg("subs", shell_quote(fs::absolute(o.submissions).string())),
      fmt::arg("dir", shell_quote(s.dir.string())), fmt::arg("ext", ext));

  std::string shard_dirs;
  for (int k = 1; k <= o.shards; ++k)
    shard_dirs += " " + shell_quote((s.dir / std::to_string(k)).string());
  s.merge = fmt::format(
      "#!/bin/bash\n"
      "# Folds the {n} shards of {id} into one output folder; runs after every array task "
      "succeeded.\n"
      "#SBATCH --job-name=merge-{id}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={logs}/merge_%j.out\n"
      "#SBATCH --kill-on-invalid-dep=yes\n"
      "{common}"
      "exec {grader} merge{shards} --out {out}\n",
      fmt::arg("n", o.shards), fmt::arg("id", id), fmt::arg("logs", s.dir.string() + "/logs"),
      fmt::arg("common", common), fmt::arg("grader", shell_quote(o.grader.string())),
      fmt::arg("shards", shard_dirs), fmt::arg("out", shell_quote(out.string())));
  return s;
}

namespace {

std::string run_sbatch(const std::string& sbatch, const std::vector<std::string>& args) {
  std::vector<std::string> argv{sbatch};
  argv.insert(argv.end(), args.begin(), args.end());
  const common::Finished f = common::run_to_end(argv);
  std::string text;  // stdout without its line ends
  for (char c : f.out)
    if (c != '\n' && c != '\r') text += c;
  if (!f.error.empty() || f.exit_status != 0 || text.empty()) {
    throw std::runtime_error(fmt::format("sbatch {} failed ({}): {}", args.back(), f.exit_status,
                                         f.error.empty() ? f.err : f.error));
  }
  return text.substr(0, text.find(';'));  // --parsable prints "jobid[;cluster]"
}

}  // namespace

std::pair<std::string, std::string> submit(const Scripts& s, const std::string& sbatch) {
  fs::create_directories(s.dir / "logs");
  fs::path array = s.dir / "grade.sbatch", merge = s.dir / "merge.sbatch";
  reports::write_file_atomic(array, s.array);
  reports::write_file_atomic(merge, s.merge);
  std::string array_id = run_sbatch(sbatch, {"--parsable", array.string()});
  std::string merge_id =
      run_sbatch(sbatch, {"--parsable", "--dependency=afterok:" + array_id, merge.string()});
  return {array_id, merge_id};
}

}  // namespace grader::slurm
