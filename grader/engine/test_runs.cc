// The test kinds. Box layout (assignments/README.md): /work a fresh copy of the submission,
// /grader the test's own files, /out outputs, /expected expected data (check boxes only),
// /report pytest's JUnit file. Host code opens box files only with O_NOFOLLOW.
#include "grader/engine/test_runs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <pugixml.hpp>
#include <set>

#include "grader/box/remove_tree.h"
#include "grader/engine/intake.h"
#include "grader/engine/perf.h"
#include "grader/engine/pytest_budget.h"
#include "reports/score.h"

namespace grader {
namespace fs = std::filesystem;
using nlohmann::json;
using reports::TestEntry;
using reports::TestStatus;

namespace {

constexpr size_t kJunitCap = 8u << 20;             // a JUnit file larger than this is not read
constexpr uint64_t kOutputsMaxBytes = 1ull << 30;  // what a produce box may hand to its checker
constexpr uint64_t kOutputsMaxFiles = 10000;
constexpr const char* kChannelFile = "channel.jsonl";

// Modes on a tree the grader made, before any box sees it: the box runs as an
// unprivileged user, so it needs read (and for /work, write) access by mode.
void set_tree_modes(const fs::path& root, bool writable) {
  auto mode_for = [&](bool dir, bool exec) {
    if (dir) return writable ? fs::perms(0777) : fs::perms(0755);
    if (exec) return writable ? fs::perms(0777) : fs::perms(0755);
    return writable ? fs::perms(0666) : fs::perms(0644);
  };
  std::error_code ec;
  fs::permissions(root, mode_for(true, true), ec);
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto st = it->symlink_status(ec);
    if (ec || fs::is_symlink(st)) continue;
    bool exec = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
    fs::permissions(it->path(), mode_for(fs::is_directory(st), exec), ec);
  }
}

void make_dir(const fs::path& dir, bool writable) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw InfrastructureError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  set_tree_modes(dir, writable);
}

// A writable folder of the box: a capped tmpfs, filled from `seed` (a fresh copy for each
// run, made inside the box), its files copied back to `collect` after the run.
sandbox::Tmpfs volume(const std::string& dst, const fs::path& seed = {},
                      const fs::path& collect = {}) {
  sandbox::Tmpfs v;
  v.dst = dst;
  v.seed = seed.string();
  v.collect = collect.string();
  return v;
}

// `files` and the test's `data`, for the boxes that copy both.
std::vector<std::string> with_data(const TestSpec& t, std::vector<std::string> files) {
  files.insert(files.end(), t.data.begin(), t.data.end());
  return files;
}

// The test's own files, keeping their relative paths, read-only for the box.
fs::path grader_files(const Manifest& m, const std::vector<std::string>& files,
                      const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const std::string& rel : files) {
    fs::path dst = dir / rel;
    fs::create_directories(dst.parent_path(), ec);
    fs::copy_file(m.dir / rel, dst, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw InfrastructureError(
          fmt::format("cannot copy {}: {}", (m.dir / rel).string(), ec.message()));
  }
  set_tree_modes(dir, false);
  return dir;
}

// A run folder a box wrote: what cannot go now is tried again with the scratch folder, whose
// failure marks the score (engine.cc).
void remove_quietly(const fs::path& dir) {
  if (std::string error = remove_tree(dir); !error.empty())
    spdlog::warn("cannot remove a run folder: {}", error);
}

// Reads a file a box may control: never follows a link, refuses anything but a regular file.
std::optional<std::string> read_box_file(const fs::path& path, size_t cap) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > cap) {
    ::close(fd);
    return std::nullopt;
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  ::close(fd);
  return data;
}

std::map<std::string, std::string> box_env(const Manifest& m, const TestSpec* test,
                                           bool student_run) {
  std::map<std::string, std::string> env{{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
  for (const auto& [k, v] : m.env) env[k] = v;
  env["PYTHONDONTWRITEBYTECODE"] = "1";
  env["HOME"] = "/tmp";
  env["GRADER_OUT"] = "/out";
  env["GRADER_EXPECTED"] = "/expected";
  env["GRADER_SEED"] = std::to_string(test ? test->seed : 0);
  if (student_run) env["PYTHONPATH"] = "/work";
  return env;
}

std::vector<std::string> pytest_argv(const Manifest& m, const TestSpec& t,
                                     const std::vector<std::string>& files) {
  std::vector<std::string> argv{m.python,
                                "-m",
                                "pytest",
                                "-q",
                                "-p",
                                "no:cacheprovider",
                                "--junitxml=/report/junit.xml",
                                "--rootdir=/grader"};
  argv.insert(argv.end(), t.args.begin(), t.args.end());
  for (const auto& f : files) argv.push_back("/grader/" + f);
  return argv;
}

// Replaces {iterations} and {python} in a manifest command.
std::vector<std::string> expand(const std::vector<std::string>& command, const Manifest& m,
                                std::optional<int64_t> iterations) {
  std::vector<std::string> out;
  for (std::string arg : command) {
    auto replace = [&](const std::string& key, const std::string& value) {
      for (size_t pos; (pos = arg.find(key)) != std::string::npos;)
        arg.replace(pos, key.size(), value);
    };
    replace("{python}", m.python);
    if (iterations) replace("{iterations}", std::to_string(*iterations));
    out.push_back(arg);
  }
  return out;
}

double round4(double x) { return std::round(x * 1e4) / 1e4; }

void set_score(TestEntry& entry, const TestSpec& t, double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  entry.score = round4(t.points * fraction);
  entry.status = fraction >= 1.0  ? TestStatus::Passed
                 : fraction > 0.0 ? TestStatus::Partial
                                  : TestStatus::Failed;
}

void record_run(TestEntry& entry, const BoxResult& r) {
  entry.verdict = r.verdict();
  entry.limit_reason = r.result.limit_reason.empty()
                           ? std::nullopt
                           : std::optional<std::string>(r.result.limit_reason);
  entry.usage =
      reports::Usage{r.result.cpu_seconds, r.result.wall_seconds, r.result.peak_memory_bytes};
}

// One line a student understands, for verdicts that are not a plain exit status.
std::string verdict_note(const BoxResult& r, const Limits& l) {
  using sandbox::Verdict;
  const sandbox::Policy policy = limits_policy(l);
  const Verdict v = r.result.verdict;
  const std::string& reason = r.result.limit_reason;
  if (v == Verdict::TimeLimit) {
    if (reason == "cpu")
      return fmt::format("Killed: CPU time limit ({} s) reached.\n", policy.cpu_time);
    return fmt::format("Killed: wall-clock limit ({} s) reached.\n", policy.effective_wall_time());
  }
  if (v == Verdict::MemoryLimit)
    return fmt::format("Killed: memory limit ({} MiB) reached.\n", policy.memory >> 20);
  if (v == Verdict::OutputLimit && reason == "disk")
    return fmt::format(
        "Stopped: a folder of the run is full (/work, /out and /report hold {} MiB each).\n",
        l.disk.value_or(kDefaultDisk) >> 20);
  if (v == Verdict::OutputLimit && reason == "inodes")
    return fmt::format("Stopped: too many files (/work, /out and /report hold {} each).\n",
                       l.inodes.value_or(kDefaultInodes));
  if (v == Verdict::OutputLimit) return "Killed: too much output.\n";
  if (v == Verdict::ProcessLimit)
    return fmt::format("Killed: process limit ({}) reached.\n", policy.pids);
  if (v == Verdict::Signaled)
    return fmt::format("Killed by signal {}.\n", r.result.signal.value_or(0));
  return "";
}

// How a run started ("warm" or "cold"), as the sandbox's result says.
const std::string& start_of(const BoxResult& r) { return r.result.start; }

BoxResult run_box(GradingContext& ctx, const BoxSpec& spec, const fs::path& run_dir,
                  const std::string& what, size_t max_output = 4096) {
  BoxResult r = ctx.runner.run(spec, run_dir, max_output);
  if (!r.carried_out) throw InfrastructureError(fmt::format("{}: {}", what, r.error));
  if (start_of(r) == "warm") {
    ++ctx.warm_runs;
  } else {
    ++ctx.cold_runs;
    if (!spec.zygote.empty() && ctx.cold_note.empty() && !r.result.start_note.empty())
      ctx.cold_note = r.result.start_note;
  }
  if (ctx.enforced.is_null() && !r.result.enforced.empty()) ctx.enforced = r.result.enforced;
  return r;
}

}  // namespace

std::string case_count_note(std::optional<int64_t> expected, int64_t reported) {
  if (!expected || *expected == reported) return "";
  if (reported < *expected)
    return fmt::format(
        "pytest reported {} cases, the manifest says {}: the {} missing count as failed (a "
        "test module that did not import, or a wrong `cases` in the manifest).\n",
        reported, *expected, *expected - reported);
  return fmt::format(
      "pytest reported {} cases, the manifest says {}: scored out of {} (fix `cases` in the "
      "manifest).\n",
      reported, *expected, reported);
}

std::string student_view_paths(std::string text) {
  // pytest runs in /work with its rootdir at /grader, so it names a test file
  // "../grader/handout/tests/test_x.py"; the student has it as "tests/test_x.py".
  for (const std::string prefix : {"../grader/handout/", "/grader/handout/", "../grader/"}) {
    for (size_t at = 0; (at = text.find(prefix, at)) != std::string::npos;) {
      // Only at the start of a path: not inside a longer one such as /x/grader/.
      if (at > 0 && text[at - 1] != ' ' && text[at - 1] != '\n' && text[at - 1] != '"' &&
          text[at - 1] != '(' && text[at - 1] != '\'') {
        at += prefix.size();
        continue;
      }
      text.erase(at, prefix.size());
    }
  }
  return text;
}

namespace {

// Fraction of points from (passed, reported) JUnit cases and the manifest's `cases` (not
// applied to a student's -k selection, which runs fewer cases on purpose).
double case_fraction(const TestSpec& t, int64_t passed, int64_t reported, bool selection,
                     TestEntry& entry) {
  int64_t total = selection ? reported : std::max(reported, t.cases.value_or(0));
  passed = std::min(passed, total);
  entry.cases = reports::Cases{passed, total};
  if (total == 0) return 0.0;
  if (t.scoring == Scoring::AllOrNothing) return passed == total ? 1.0 : 0.0;
  return static_cast<double>(passed) / static_cast<double>(total);
}

TestEntry run_pytest(GradingContext& ctx, const TestSpec& t) {
  TestEntry entry = base_entry(t);
  fs::path dir = ctx.new_run_dir(t.id);
  BoxSpec spec;
  spec.argv = pytest_argv(ctx.manifest, t, t.files);
  const std::optional<CaseLimits> per_case = case_limits(ctx.manifest, t);
  if (per_case)
    spec.argv.insert(spec.argv.begin() + 3, per_case->args.begin(), per_case->args.end());
  if (!ctx.pytest_select.empty()) {
    spec.argv.insert(spec.argv.begin() + 3, ctx.pytest_select);
    spec.argv.insert(spec.argv.begin() + 3, "-k");
  }
  spec.limits = t.limits;
  spec.cwd = "/work";
  spec.env = box_env(ctx.manifest, &t, true);
  spec.zygote = ctx.zygote;
  fs::path grader_dir = grader_files(ctx.manifest, with_data(t, t.files), dir / "grader");
  if (per_case) {
    write_pytest_plugin(grader_dir);
    std::string& path = spec.env["PYTHONPATH"];
    path = path.empty() ? kPytestPluginDir : std::string(kPytestPluginDir) + ":" + path;
    spec.env["GRADER_PYTEST_BUDGET"] = per_case->budget;
  }
  spec.binds = {{grader_dir, "/grader", false}};
  spec.volumes = {volume("/work", ctx.work_base), volume("/report", {}, dir / "report")};
  BoxResult r = run_box(ctx, spec, dir, "test " + t.id);
  record_run(entry, r);
  std::string note = verdict_note(r, t.limits);
  auto xml = read_box_file(dir / "report" / "junit.xml", kJunitCap);
  double fraction = 0;
  bool parsed = false;
  if (xml) {
    try {
      auto [passed, reported] = count_junit_cases(*xml);
      fraction = case_fraction(t, passed, reported, !ctx.pytest_select.empty(), entry);
      parsed = true;
      if (ctx.pytest_select.empty()) note += case_count_note(t.cases, reported);
    } catch (const std::exception&) {
    }
  }
  set_score(entry, t, fraction);
  if (!parsed) {
    entry.status = TestStatus::Error;
    note += "pytest wrote no test report (did the code crash or exit at import?).\n";
    entry.cases = reports::Cases{0, t.cases.value_or(0)};
  }
  if (r.output.find("Failed: Timeout >") != std::string::npos)
    note +=
        "A case ran past its own time limit; the traceback below shows where your code was "
        "when it was stopped.\n";
  entry.output = note + student_view_paths(r.output);
  return entry;
}

// The trusted half of a test: copies what a student box left in `produced` (plain files
// only) to a fresh box that holds the checker, the expected data and no student file, and
// runs pytest there. `baseline`, when given, is mounted at /baseline (perf tests compare
// the student's outputs with the reference's).
struct CheckOutcome {
  std::string rejected;  // the outputs could not be copied (student's fault)
  std::string verdict;
  std::pair<int64_t, int64_t> cases{0, 0};  // passed, reported
  std::string text;                         // checker output, with notes
};

CheckOutcome run_checker(GradingContext& ctx, const TestSpec& t, const fs::path& produced,
                         const fs::path* baseline, const std::string& label,
                         const fs::path* channel = nullptr, const fs::path* measured = nullptr) {
  const Manifest& m = ctx.manifest;
  CheckOutcome outcome;
  fs::path dir = ctx.new_run_dir(label);
  try {
    auto skipped = copy_box_outputs(produced, dir / "out", {kOutputsMaxBytes, kOutputsMaxFiles});
    for (const auto& s : skipped) outcome.text += "ignored output " + s + "\n";
  } catch (const IntakeError& e) {
    outcome.rejected = e.what();
    return outcome;
  } catch (const std::exception& e) {
    throw InfrastructureError(fmt::format("test {}: copying outputs failed: {}", t.id, e.what()));
  }
  set_tree_modes(dir / "out", false);
  BoxSpec check;
  check.argv = pytest_argv(m, t, t.check_files);
  check.limits = t.limits;
  check.cwd = "/grader";
  check.env = box_env(m, &t, false);
  check.zygote = ctx.zygote;
  check.binds = {{grader_files(m, with_data(t, t.check_files), dir / "grader"), "/grader", false},
                 {dir / "out", "/out", false}};
  check.volumes = {volume("/report", {}, dir / "report")};
  if (channel && fs::exists(*channel / kChannelFile)) {
    check.binds.push_back({*channel, "/channel", false});
    check.env["GRADER_CHANNEL"] = std::string("/channel/") + kChannelFile;
  }
  try {
    if (!t.expected.empty()) {
      copy_tree(m.dir / t.expected, dir / "expected");
      set_tree_modes(dir / "expected", false);
      check.binds.push_back({dir / "expected", "/expected", false});
    }
    if (baseline) {
      copy_box_outputs(*baseline, dir / "baseline", {kOutputsMaxBytes, kOutputsMaxFiles});
      set_tree_modes(dir / "baseline", false);
      check.binds.push_back({dir / "baseline", "/baseline", false});
    }
    if (measured) check.binds.push_back({*measured, "/measured", false});
  } catch (const std::exception& e) {
    throw InfrastructureError(
        fmt::format("test {}: cannot prepare the checker's data: {}", t.id, e.what()));
  }
  BoxResult c = run_box(ctx, check, dir, "test " + t.id + " (check)", 2560);
  outcome.verdict = c.verdict();
  outcome.text += verdict_note(c, t.limits) + c.output;
  auto xml = read_box_file(dir / "report" / "junit.xml", kJunitCap);
  try {
    if (!xml) throw std::runtime_error("no report");
    outcome.cases = count_junit_cases(*xml);
  } catch (const std::exception&) {
    // A trusted checker that stopped at a limit was fed something it could not digest by
    // the student's outputs; any other missing report is the grading side's fault.
    const sandbox::Verdict v = c.result.verdict;
    bool limit = v == sandbox::Verdict::TimeLimit || v == sandbox::Verdict::MemoryLimit ||
                 v == sandbox::Verdict::OutputLimit;
    if (!limit) {
      throw InfrastructureError(fmt::format("test {}: the checker wrote no JUnit report ({}): {}",
                                            t.id, c.verdict(), text_excerpt(c.output, 600)));
    }
  }
  return outcome;
}

// One run of a produce_check test's driver over `work` (a copy of it): the student's
// submission, or the measure_baseline folder. Outputs land in dir/out.
BoxResult run_driver(GradingContext& ctx, const TestSpec& t, const fs::path& work,
                     const fs::path& dir, const std::string& what, bool warm = true) {
  const Manifest& m = ctx.manifest;
  std::vector<std::string> files = t.files;
  if (std::find(files.begin(), files.end(), t.produce) == files.end()) files.push_back(t.produce);
  BoxSpec produce;
  produce.argv = {m.python, "/grader/" + t.produce};
  produce.limits = t.limits;
  produce.cwd = "/work";
  produce.env = box_env(m, &t, true);
  if (warm) produce.zygote = ctx.zygote;
  produce.binds = {{grader_files(m, with_data(t, files), dir / "grader"), "/grader", false}};
  produce.volumes = {volume("/work", work), volume("/out", {}, dir / "out")};
  // Facts the driver can only observe in the student's process leave by the channel (fd 3):
  // bytes the supervisor has taken cannot be edited by an exit handler or a thread later.
  const fs::path channel = dir / "channel";
  make_dir(channel, false);
  produce.channel = channel / kChannelFile;
  produce.env["GRADER_CHANNEL_FD"] = "3";
  BoxResult r = run_box(ctx, produce, dir, what, 1536);
  std::error_code ec;
  fs::permissions(channel / kChannelFile, fs::perms(0644), ec);
  return r;
}

// What the sandbox measured of one run, from outside the box: the only numbers about a
// student run a checker may believe (/measured/<name>.json).
void write_measured(const fs::path& dir, const std::string& name, const BoxResult& r) {
  json facts = {{"peak_memory_bytes", r.result.peak_memory_bytes},
                {"cpu_seconds", r.result.cpu_seconds},
                {"wall_seconds", r.result.wall_seconds},
                {"verdict", r.verdict()},
                {"exit_code", r.result.exit_code ? json(*r.result.exit_code) : json()},
                {"start", start_of(r)}};
  make_dir(dir, false);
  const fs::path file = dir / (name + ".json");
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << facts.dump(1) << "\n";
  f.close();
  if (!f) throw InfrastructureError(fmt::format("cannot write {}", file.string()));
  set_tree_modes(dir, false);
}

TestEntry run_produce_check(GradingContext& ctx, const TestSpec& t) {
  const Manifest& m = ctx.manifest;
  TestEntry entry = base_entry(t);
  fs::path measured = ctx.new_run_dir(t.id + "-measured");

  // With measure_baseline, the same driver first runs over the trusted folder alone (no
  // student file), in this grading, so that the checker compares both runs' peak memory or
  // time on this machine now; its outputs become the checker's /baseline. It goes first:
  // a cold run that faults the Python stack's libraries back into the page cache is charged
  // for them (hundreds of MB), and that must never be the student's run. Both start warm
  // where the grading has a zygote; a warm run's memory leaves out the pages it only shares
  // with the zygote, so the two compare like with like only when they started the same way:
  // a pair that did not (the zygote died between them) is measured again, both cold.
  fs::path baseline_out, dir;
  BoxResult p;
  for (bool warm : {true, false}) {
    std::optional<BoxResult> b;
    if (!t.measure_baseline.empty()) {
      fs::path bdir = ctx.new_run_dir(t.id + "-baseline");
      b = run_driver(ctx, t, m.dir / t.measure_baseline, bdir, "test " + t.id + " (baseline)",
                     warm);
      if (!b->ok()) {
        throw InfrastructureError(fmt::format("test {}: the baseline run failed ({}): {}", t.id,
                                              b->verdict(), text_excerpt(b->output, 600)));
      }
      baseline_out = bdir / "out";
    }
    dir = ctx.new_run_dir(t.id + "-produce");
    p = run_driver(ctx, t, ctx.work_base, dir, "test " + t.id + " (produce)", warm);
    if (!b) break;
    if (start_of(*b) == start_of(p) || !warm) {
      write_measured(measured, "baseline", *b);
      break;
    }
    remove_quietly(baseline_out);
    remove_quietly(dir / "out");
  }
  const fs::path channel = dir / "channel";
  record_run(entry, p);
  std::string produce_text = verdict_note(p, t.limits) + p.output;
  write_measured(measured, "student", p);
  // What the sandbox left out when it collected /out (links, FIFOs, too deep) is named.
  for (const sandbox::VolumeResult& v : p.result.volumes)
    if (v.dst == "/out")
      for (const std::string& note : v.notes) produce_text += "\nignored output " + note;

  // Only the verdict of the check box counts.
  CheckOutcome c = run_checker(ctx, t, dir / "out", baseline_out.empty() ? nullptr : &baseline_out,
                               t.id + "-check", &channel, &measured);
  remove_quietly(dir / "out");
  if (!baseline_out.empty()) remove_quietly(baseline_out);
  if (!c.rejected.empty()) {
    entry.output = text_excerpt(produce_text, 1536) + "\nOutputs rejected: " + c.rejected;
    entry.cases = reports::Cases{0, t.cases.value_or(0)};
    set_score(entry, t, 0);
    return entry;
  }
  entry.check_verdict = std::optional<std::string>(c.verdict);
  set_score(entry, t, case_fraction(t, c.cases.first, c.cases.second, false, entry));
  entry.output = text_excerpt(produce_text, 1536) + (produce_text.empty() ? "" : "\n") +
                 "--- checker ---\n" + text_excerpt(c.text, 2560);
  return entry;
}

TestEntry run_command(GradingContext& ctx, const TestSpec& t) {
  TestEntry entry = base_entry(t);
  fs::path dir = ctx.new_run_dir(t.id);
  BoxSpec spec;
  spec.argv = expand(t.command, ctx.manifest, std::nullopt);
  spec.limits = t.limits;
  spec.cwd = "/work";
  spec.env = box_env(ctx.manifest, &t, true);
  spec.zygote = ctx.zygote;
  spec.binds = {
      {grader_files(ctx.manifest, with_data(t, t.files), dir / "grader"), "/grader", false}};
  spec.volumes = {volume("/work", ctx.work_base)};
  BoxResult r = run_box(ctx, spec, dir, "test " + t.id);
  record_run(entry, r);
  set_score(entry, t, r.ok() ? 1.0 : 0.0);
  entry.output = verdict_note(r, t.limits) + r.output;
  return entry;
}

const char* run_name(perf::Run role) {
  switch (role) {
    case perf::Run::BaselineLow:
      return "baseline-low";
    case perf::Run::BaselineHigh:
      return "baseline-high";
    default:
      return "student";
  }
}

json perf_pairs_json(const perf::Outcome& o, const perf::Settings& s) {
  json pairs = json::array();
  for (const perf::Pair& p : o.pairs) {
    const auto [low, high] = perf::counts_of(p.t, s);
    json j = {{"b_low", round4(p.t.b_low)},   {"b_high", round4(p.t.b_high)},
              {"s_high", round4(p.t.s_high)}, {"startup", round4(p.startup)},
              {"speedup", round4(p.speedup)}, {"valid", p.valid},
              {"retries", p.retries},         {"iterations", {low, high}}};
    if (!p.valid) j["problem"] = p.problem;
    pairs.push_back(std::move(j));
  }
  return pairs;
}

// The baseline folder, built by the manifest's [build] (in a box of its own, holding the
// baseline folder alone) when there is one: its start-up is the estimate of the student's, so
// it must start as a built submission does, not compile what the student's build already did.
fs::path built_baseline(GradingContext& ctx, const TestSpec& t, const fs::path& dir) {
  const fs::path source = ctx.manifest.dir / t.baseline;
  if (!ctx.manifest.build) return source;
  GradingContext sub{ctx.manifest, ctx.runner, dir / "baseline-build", source, ctx.enforced, 0};
  json build = run_build(sub, *ctx.manifest.build);
  if (build.value("verdict", "") != "ok" || sub.work_base == source) {
    throw InfrastructureError(fmt::format("test {}: building the baseline {} failed: {}", t.id,
                                          t.baseline, build.value("output", "")));
  }
  return sub.work_base;
}

// Per pair: the baseline at both iteration counts and the student once, at the high count,
// between them (grader/engine/perf.h). Start-up is estimated from the baseline's runs only, so the
// student's code can make its own speedup smaller, never larger; every student run's outputs
// are checked against the baseline's high-count outputs before its time counts.
namespace {

perf::Settings perf_settings(const TestSpec& t) {
  perf::Settings settings{
      t.iterations.first, t.iterations.second, static_cast<int>(t.pairs),
      t.thresholds.front().first,
      t.max_plausible_speedup > 0 ? t.max_plausible_speedup : 10 * t.thresholds.front().first};
  for (const auto& [at_least, fraction] : t.thresholds) settings.bands.push_back(at_least);
  settings.warm = t.warm_iterations;
  return settings;
}

// One perf test: pairs of timed runs of the student's code and the baseline (grader/engine/perf.h
// decides from their times), each fast student run checked for right outputs.
class PerfTest {
 public:
  PerfTest(GradingContext& ctx, const TestSpec& t)
      : ctx_(ctx),
        t_(t),
        entry_(base_entry(t)),
        dir_(ctx.new_run_dir(t.id)),
        settings_(perf_settings(t)),
        // Warm counts while the runs can start warm: from the first cold run on (the zygote
        // died or was given up on), the manifest's counts, sized for cold start-ups.
        warm_counts_(t.warm_iterations && !ctx.zygote.empty()) {}
  TestEntry run();

 private:
  BoxResult timed_run(bool student, int64_t iterations, const fs::path& run_dir);
  std::optional<perf::Sample> measure(int pair, int attempt);
  bool outputs_right(const fs::path& pair_dir, int pair, int attempt);
  void record(const perf::Outcome& o);
  std::string explanation(const perf::Outcome& o) const;
  std::string counts_text(const perf::Outcome& o) const;
  double seconds(const BoxResult& r) const {
    return t_.measure == Measure::Cpu ? r.result.cpu_seconds : r.result.wall_seconds;
  }

  GradingContext& ctx_;
  const TestSpec& t_;
  TestEntry entry_;
  const fs::path dir_;
  fs::path grader_, baseline_base_;
  const perf::Settings settings_;
  bool warm_counts_;
  bool measured_again_ = false;  // a run started cold at the warm counts (run())
  double cpu_ = 0, wall_ = 0;    // the student's runs only
  BoxResult last_;               // the student's last run
  std::string failure_;          // why the student's run earned nothing ("" while it did)
  int checks_ = 0;
};

TestEntry PerfTest::run() {
  grader_ = grader_files(ctx_.manifest, with_data(t_, t_.files), dir_ / "grader");
  // The baseline runs on the baseline folder alone: no student file (a sitecustomize.py, a
  // module shadowing the standard library) can slow the reference down.
  baseline_base_ = built_baseline(ctx_, t_, dir_);
  auto measure_all = [this] {
    return perf::measure_pairs(settings_,
                               [this](int pair, int attempt) { return measure(pair, attempt); });
  };
  perf::Outcome o = measure_all();
  // A run started cold at the warm counts: every pair is measured again at the cold ones, so
  // that the median never mixes speedups measured at different counts.
  if (o.stopped && measured_again_) o = measure_all();
  record(o);
  if (o.stopped) {
    entry_.output = failure_;
    set_score(entry_, t_, 0);
    return entry_;
  }
  if (o.too_noisy) {
    // Neither a zero nor full points: the measurement says nothing about the code.
    throw InfrastructureError(fmt::format(
        "test {}: perf measurement too noisy: {} of {} pairs plausible after retries (need {})",
        t_.id, o.valid, o.pairs.size(), perf::needed_valid(settings_.pairs)));
  }
  set_score(entry_, t_, perf_fraction(o.used, t_.thresholds));
  entry_.output = explanation(o) + text_excerpt(last_.output, 2048);
  return entry_;
}

BoxResult PerfTest::timed_run(bool student, int64_t iterations, const fs::path& run_dir) {
  const Manifest& m = ctx_.manifest;
  BoxSpec spec;
  spec.argv = expand(t_.command, m, iterations);
  spec.limits = t_.limits;
  spec.cwd = "/work";
  spec.env = box_env(m, &t_, true);
  spec.binds = {{grader_, "/grader", false}};
  spec.volumes = {volume("/work", student ? ctx_.work_base : baseline_base_)};
  if (!t_.check_files.empty()) spec.volumes.push_back(volume("/out", {}, run_dir / "out"));
  // Student and baseline alike start warm where the grading has a zygote: the start-up the
  // pair subtracts is then a tenth of a second, not an import of torch (grader/engine/perf.h).
  spec.zygote = ctx_.zygote;
  return run_box(ctx_, spec, run_dir, "test " + t_.id);
}

std::optional<perf::Sample> PerfTest::measure(int pair, int attempt) {
  perf::Sample sample;
  sample.at_warm_counts = warm_counts_;
  const auto [low, high] = perf::counts_of(sample, settings_);
  std::set<std::string> starts;
  const fs::path pair_dir = dir_ / fmt::format("pair-{}-{}", pair, attempt);
  // A retry also flips the order, so that a neighbour's rhythm does not repeat the noise.
  for (perf::Run role : perf::run_order(pair + attempt)) {
    const bool student = role == perf::Run::StudentHigh;
    const int64_t iterations = role == perf::Run::BaselineLow ? low : high;
    BoxResult r = timed_run(student, iterations, pair_dir / run_name(role));
    if (sample.at_warm_counts && start_of(r) != "warm") {
      // The zygote is lost (or refused this run): the warm counts are too little work for a
      // cold start-up's noise. Stop here; run() measures every pair again at `iterations`.
      warm_counts_ = false;
      measured_again_ = true;
      remove_quietly(pair_dir);
      return std::nullopt;
    }
    starts.insert(start_of(r));
    sample.same_start = starts.size() == 1;
    sample.started_warm = sample.same_start && start_of(r) == "warm";
    if (!student) {
      if (!r.ok()) {
        throw InfrastructureError(fmt::format("test {}: the baseline failed ({}): {}", t_.id,
                                              r.verdict(), text_excerpt(r.output, 600)));
      }
      (role == perf::Run::BaselineLow ? sample.b_low : sample.b_high) = seconds(r);
      continue;
    }
    cpu_ += r.result.cpu_seconds;
    wall_ += r.result.wall_seconds;
    last_ = r;
    if (!r.ok()) {
      failure_ =
          fmt::format("Your code failed at {} iterations; no speedup measured.\n", iterations) +
          verdict_note(r, t_.limits) + r.output;
      return std::nullopt;
    }
    sample.s_high = seconds(r);
  }
  if (!t_.check_files.empty() && !outputs_right(pair_dir, pair, attempt)) return std::nullopt;
  remove_quietly(pair_dir);
  return sample;
}

// A fast run must also be a right one: this run's outputs against the baseline's high-count
// outputs, in a box without student code.
bool PerfTest::outputs_right(const fs::path& pair_dir, int pair, int attempt) {
  fs::path baseline_out = pair_dir / run_name(perf::Run::BaselineHigh) / "out";
  CheckOutcome c = run_checker(ctx_, t_, pair_dir / run_name(perf::Run::StudentHigh) / "out",
                               &baseline_out, fmt::format("{}-check-{}-{}", t_.id, pair, attempt));
  ++checks_;
  int64_t total = std::max(c.cases.second, t_.cases.value_or(0));
  entry_.check_verdict = c.verdict.empty() ? std::nullopt : std::optional<std::string>(c.verdict);
  entry_.cases = reports::Cases{std::min(c.cases.first, total), total};
  if (c.rejected.empty() && total > 0 && c.cases.first >= total) return true;
  failure_ = "The outputs of your timed run are wrong, so no speed is credited.\n" +
             (c.rejected.empty() ? text_excerpt(c.text, 2560) : "Outputs rejected: " + c.rejected);
  return false;
}

void PerfTest::record(const perf::Outcome& o) {
  record_run(entry_, last_);
  entry_.usage->cpu_seconds = cpu_;  // the student's runs, all of them
  entry_.usage->wall_seconds = wall_;
  std::vector<double> speedups;
  for (const perf::Pair& p : o.pairs) {
    if (p.valid) speedups.push_back(round4(p.speedup));
  }
  const bool measured = !o.stopped && !o.too_noisy;
  entry_.perf = {{"measure", t_.measure},
                 {"iterations", {t_.iterations.first, t_.iterations.second}},
                 {"speedup", measured ? json(round4(o.used)) : json(nullptr)},
                 {"median", measured ? json(round4(o.median)) : json(nullptr)},
                 {"saturated", measured && o.saturated},
                 {"decided_early", o.decided},
                 {"max_plausible_speedup", settings_.max_plausible},
                 {"speedups", speedups},
                 {"pairs", perf_pairs_json(o, settings_)}};
  if (t_.warm_iterations) {
    entry_.perf["warm_iterations"] = {t_.warm_iterations->first, t_.warm_iterations->second};
  }
}

// "your code at 80 iterations, start-up taken from the baseline at 1 and 80" (every pair of an
// outcome ran at the same counts: run()), and why, when the test was measured again.
std::string PerfTest::counts_text(const perf::Outcome& o) const {
  const perf::Sample counted = o.pairs.empty() ? perf::Sample{} : o.pairs.front().t;
  const auto [low, high] = perf::counts_of(counted, settings_);
  std::string text =
      fmt::format("your code at {} iterations{}, start-up taken from the baseline at {} and {}",
                  high, counted.at_warm_counts ? " (sized for warm starts)" : "", low, high);
  if (measured_again_) {
    text += "; measured again at these counts after a run started cold at the warm ones";
  }
  return text;
}

std::string PerfTest::explanation(const perf::Outcome& o) const {
  std::string needed;
  for (const auto& [at_least, frac] : t_.thresholds) {
    needed += fmt::format(" {}x: {}%,", at_least, frac * 100);
  }
  if (!needed.empty()) needed.pop_back();
  std::string pairs_text;
  for (const perf::Pair& p : o.pairs) {
    pairs_text += p.valid ? fmt::format(" {:.2f}x", p.speedup) : " noise";
  }
  return fmt::format(
      "Median speedup {:.2f}x over the baseline{} ({} time; pairs:{}; {}; {} checked "
      "run(s)). Thresholds:{}.{}\n",
      o.median, o.saturated ? fmt::format(", counted as {}x", o.used) : "",
      reports::name(t_.measure), pairs_text, counts_text(o), checks_, needed,
      o.decided ? fmt::format(" {} of {} pairs measured: they share a threshold band, "
                              "so no further pair could change the points.",
                              o.pairs.size(), settings_.pairs)
                : "");
}

}  // namespace

TestEntry run_perf(GradingContext& ctx, const TestSpec& t) { return PerfTest(ctx, t).run(); }

}  // namespace

fs::path GradingContext::new_run_dir(const std::string& label) {
  fs::path dir = scratch / "runs" / fmt::format("{:03}-{}", ++run_counter, label);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw InfrastructureError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  return dir;
}

std::pair<int64_t, int64_t> count_junit_cases(const std::string& xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) throw std::runtime_error(std::string("JUnit XML: ") + ok.description());
  pugi::xml_node root = doc.document_element();
  if (std::string(root.name()) != "testsuites" && std::string(root.name()) != "testsuite") {
    throw std::runtime_error("JUnit XML: the root is neither <testsuites> nor <testsuite>");
  }
  int64_t passed = 0, reported = 0;
  for (pugi::xpath_node node : doc.select_nodes("//testcase")) {
    pugi::xml_node tc = node.node();
    ++reported;
    if (!tc.child("failure") && !tc.child("error") && !tc.child("skipped")) ++passed;
  }
  return {passed, reported};
}

double perf_fraction(double speedup, const std::vector<std::pair<double, double>>& thresholds) {
  for (const auto& [min_speedup, fraction] : thresholds) {
    if (speedup >= min_speedup) return fraction;
  }
  return 0.0;
}

TestEntry base_entry(const TestSpec& t) {
  TestEntry e;
  e.id = t.id;
  e.name = t.name;
  e.visibility = t.visibility;
  e.kind = t.kind;
  e.max_score = t.points;
  e.trust = trust_of(t);
  return e;
}

TestEntry run_test(GradingContext& ctx, const TestSpec& test) {
  if (test.kind == TestKind::Pytest) return run_pytest(ctx, test);
  if (test.kind == TestKind::ProduceCheck) return run_produce_check(ctx, test);
  if (test.kind == TestKind::Perf) return run_perf(ctx, test);
  return run_command(ctx, test);
}

json run_build(GradingContext& ctx, const BuildSpec& build) {
  const Manifest& m = ctx.manifest;
  fs::path dir = ctx.new_run_dir("build");
  BoxSpec spec;
  spec.argv = expand(build.command, m, std::nullopt);
  spec.limits = build.limits;
  spec.cwd = "/work";
  spec.env = box_env(m, nullptr, true);
  spec.binds = {{grader_files(m, build.files, dir / "grader"), "/grader", false}};
  spec.volumes = {volume("/work", ctx.work_base, dir / "work")};
  BoxResult r = run_box(ctx, spec, dir, "build");
  std::string output = verdict_note(r, build.limits) + r.output;
  if (r.ok()) {
    // The built tree crosses back as plain files only (the build ran student code).
    try {
      copy_box_outputs(dir / "work", ctx.scratch / "built",
                       {m.max_bytes + (1ull << 30), m.max_files + kOutputsMaxFiles});
      ctx.work_base = ctx.scratch / "built";
    } catch (const IntakeError& e) {
      output += std::string("\nBuild result rejected: ") + e.what();
      return {{"verdict", r.verdict()}, {"output", text_excerpt(output, 4096)}};
    }
  }
  remove_quietly(dir / "work");
  return {{"verdict", r.verdict()}, {"output", text_excerpt(output, 4096)}};
}

}  // namespace grader
