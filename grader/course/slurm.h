// Scale-out on Slurm: a job array of `grader batch --shard K/N` runs plus a `grader merge`
// job that depends on it (afterok). grader writes and submits the scripts; Slurm schedules.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grader::slurm {

struct Options {
  std::filesystem::path grader;      // the grader binary the jobs run (absolute)
  std::filesystem::path assignment;  // resolved assignment folder (absolute)
  std::filesystem::path submissions;
  std::filesystem::path out;  // the merged output; shards go to <out>.shards/<K>
  int shards = 4;
  int cpus_per_task = 2;
  std::string time_limit = "02:00:00";
  std::string partition;  // empty: the cluster's default
  std::string memory;     // empty: the cluster's default, e.g. "8G"
  std::optional<std::filesystem::path> extensions;
  std::vector<std::string> sbatch_args;  // extra "#SBATCH" lines, e.g. "--gres=gpu:1"
};

struct Scripts {
  std::filesystem::path dir;  // <out>.shards
  std::string array, merge;   // the two sbatch scripts
};

Scripts make_scripts(const Options& options);

// Quotes a word for a POSIX shell ('...' with ' escaped).
std::string shell_quote(const std::string& word);

// Writes the scripts into scripts.dir and submits them with sbatch (the merge job with
// --dependency=afterok:<array job>). Returns the two job ids. Throws std::runtime_error
// with sbatch's message when a submission fails.
std::pair<std::string, std::string> submit(const Scripts& scripts, const std::string& sbatch);

}  // namespace grader::slurm
