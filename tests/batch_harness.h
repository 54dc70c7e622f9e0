// Shared by test_batch, test_slurm and test_gradebook: running the grader binary, making
// submissions of the tiny fixture assignment, and comparing outputs without the measured
// values (times, memory) that differ between any two runs.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/spawn.h"

namespace batch_test {

namespace fs = std::filesystem;
using nlohmann::json;

inline const fs::path kGrader = fs::path(BUILD_DIR) / "bin" / "grader";
inline const fs::path kTiny = fs::path(SOURCE_DIR) / "tests" / "fixtures" / "batch" / "tiny";

struct Ran {
  int status = -1;
  std::string out, err;
};

// Runs the grader with args; `env` entries are added to (or, when empty, removed from) the
// environment.
inline Ran run_grader(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      const fs::path& program = kGrader) {
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (!env.count(entry.substr(0, entry.find('=')))) environment.push_back(entry);
  }
  for (const auto& [k, v] : env)
    if (!v.empty()) environment.push_back(k + "=" + v);
  std::vector<std::string> argv{program.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const common::Finished f = common::run_to_end(argv, environment);
  if (!f.error.empty()) throw std::runtime_error(f.error);
  return {f.exit_status, f.out, f.err};
}

inline void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

inline std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline json read_json(const fs::path& p) { return json::parse(read(p)); }

// The tiny assignment's submissions: what each student's sol.py does.
inline const char* kCorrect =
    "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
inline const char* kAddWrong =
    "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";
inline const char* kMulLoops =
    "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    while True:\n        pass\n";

// A zip made with Debian's Python (always present for the assignments).
inline void make_zip(const fs::path& zip, const fs::path& dir) {
  std::string cmd =
      "cd '" + dir.string() +
      "' && /usr/bin/python3 -c \"import zipfile,os,sys\n"
      "z=zipfile.ZipFile(sys.argv[1],'w')\n"
      "for r,ds,fs in os.walk('.'):\n"
      "  ds.sort()\n"
      "  for f in sorted(fs): z.write(os.path.join(r,f), os.path.relpath(os.path.join(r,f),'.'))\n"
      "z.close()\" '" +
      zip.string() + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("zip failed: " + cmd);
}

inline void make_tar_gz(const fs::path& archive, const fs::path& dir) {
  std::string cmd = "tar -C '" + dir.string() + "' -czf '" + archive.string() + "' .";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("tar failed");
}

// A plain folder of `n` students named s00..s(n-1): every third has add wrong.
inline void make_class(const fs::path& dir, int n) {
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "s%02d", i);
    write(dir / name / "sol.py", i % 3 == 1 ? kAddWrong : kCorrect);
  }
}

// score.json and summary.json without the values that differ between two gradings of the
// same input (clock times, durations, measured CPU, wall and memory, host facts).
inline json normalized_score(json s) {
  for (const char* k : {"started_at", "finished_at", "duration_seconds", "host"}) s.erase(k);
  for (auto& t : s["tests"]) {
    for (const char* k : {"cpu_seconds", "wall_seconds", "peak_memory_bytes", "output"}) t.erase(k);
    if (t.contains("perf")) t.erase("perf");
  }
  if (s.contains("build") && s["build"].is_object()) s["build"].erase("output");
  return s;
}

inline json normalized_summary(json s) {
  for (auto& t : s["tests"]) {
    for (const char* k : {"cpu_seconds", "wall_seconds", "peak_memory_bytes"}) t.erase(k);
  }
  for (auto& l : s["limit_hits"]) {
    for (const char* k : {"cpu_seconds", "wall_seconds", "peak_memory_bytes"}) l.erase(k);
  }
  return s;
}

// Every file under dir (relative paths), skipping the lock file.
inline std::set<std::string> files_under(const fs::path& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir).string();
    if (rel == ".lock") continue;
    out.insert(rel);
  }
  return out;
}

// The two batch outputs hold the same files with the same content, up to measurements.
inline std::string compare_outputs(const fs::path& a, const fs::path& b) {
  auto fa = files_under(a), fb = files_under(b);
  if (fa != fb) {
    std::string diff = "file sets differ:";
    for (const auto& f : fa)
      if (!fb.count(f)) diff += " -" + f;
    for (const auto& f : fb)
      if (!fa.count(f)) diff += " +" + f;
    return diff;
  }
  for (const auto& f : fa) {
    fs::path name = fs::path(f).filename();
    if (name == "score.json") {
      if (normalized_score(read_json(a / f)) != normalized_score(read_json(b / f)))
        return f + " differs";
    } else if (name == "summary.json") {
      if (normalized_summary(read_json(a / f)) != normalized_summary(read_json(b / f)))
        return f + " differs";
    } else if (name == "summary.html") {
      continue;  // holds the measured times; its data is summary.json's
    } else if (read(a / f) != read(b / f)) {
      return f + " differs";
    }
  }
  return "";
}

}  // namespace batch_test
