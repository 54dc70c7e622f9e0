// The arithmetic of a perf test (assignments/README.md, "perf"), apart from the runs so that
// it can be tested on tables of timings. Only trusted runs (the baseline's, on the baseline
// folder alone) estimate the start-up cost; the student runs once per pair, at the high
// iteration count, so nothing the student's code does can make its own time look shorter.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grader::perf {

// Seconds (CPU or wall) of one pair's three runs.
struct Sample {
  double b_low = 0, b_high = 0, s_high = 0;
  // The three runs started the same way (all warm or all cold). A pair that mixes them
  // compares a start-up it did not measure: ~1.5 s of `import torch` on one side only.
  bool same_start = true;
  // Measured at Settings::warm's counts. Those are sized for warm start-ups (thousandths of a
  // second of noise, not tenths), so the pair counts only if its runs all started warm.
  bool at_warm_counts = false;
  bool started_warm = false;  // every run of the pair started warm
};

// One pair as it counts, after its retries.
struct Pair {
  Sample t;
  double startup = 0;  // S0: the baseline's time extrapolated to zero iterations
  double speedup = 0;  // (b_high - S0) / (s_high - S0); 0 where it is undefined
  bool valid = false;
  std::string problem;  // why it is noise ("" when valid)
  int retries = 0;      // extra measurements taken before this one
};

struct Settings {
  int64_t low = 1, high = 2;  // iteration counts, low < high
  int pairs = 3;              // pairs wanted
  double top_threshold = 1;   // the speedup that earns full points
  double max_plausible = 10;  // above this a pair is noise
  // The thresholds' speedups, best first. A speedup's band is the first one it reaches (or
  // none): the points follow from the median's band alone. Empty: every pair is measured.
  std::vector<double> bands;
  // The counts of a pair whose runs start warm (a manifest's warm_iterations); unset: low, high.
  std::optional<std::pair<int64_t, int64_t>> warm;
};

// The iteration counts [low, high] a sample was measured at.
std::pair<int64_t, int64_t> counts_of(const Sample& t, const Settings& s);

// The band of a speedup: the index of the first of `bands` it reaches, bands.size() if none.
size_t band_of(double speedup, const std::vector<double>& bands);

inline constexpr int kRetriesPerPair = 2;

// Judges one pair: start-up, speedup, and whether it is plausible. Implausible: its runs did
// not all start the same way, or not warm at the warm counts; the baseline does not take longer for
// more iterations; the student's run is not longer than the baseline's start-up; or the speedup is
// above `max_plausible`.
Pair judge(const Sample& t, const Settings& s);

// At least this many valid pairs are needed: half of those wanted, rounded up.
int needed_valid(int pairs);

// The runs of a pair, in order: even pairs b_low, s_high, b_high; odd pairs b_high, s_high,
// b_low. The student's run sits between the two baseline runs, so a drift of the machine's
// speed shifts both baseline runs of the pair around it, and which baseline run goes first
// alternates.
enum class Run { BaselineLow, BaselineHigh, StudentHigh };
std::array<Run, 3> run_order(int pair);

struct Outcome {
  std::vector<Pair> pairs;  // every pair as it counts (its last measurement)
  int valid = 0;
  double median = 0;       // of the valid pairs' speedups
  double used = 0;         // min(median, top_threshold): what the points follow from
  bool saturated = false;  // median > top_threshold
  bool stopped = false;    // a measurement returned nothing (the student's run failed)
  bool too_noisy = false;  // fewer than needed_valid pairs even after 2 x pairs
  bool decided = false;    // stopped before `pairs`: the median's band was already certain
};

// Measures pairs with `measure(pair, attempt)` until `pairs` are in (each re-measured up to
// kRetriesPerPair times while implausible), then adds pairs up to 2 x pairs while fewer than
// needed_valid are valid. `measure` returns nullopt to stop (the outcome is then `stopped`).
// With `bands`, it stops early (`decided`) once the valid pairs all share one band and
// outnumber the pairs still to come: whatever those would measure, the median of all of them
// lies between two of these, so in the same band, and the points would be the same. Of 3
// pairs: when the first 2 agree, the third is not run.
Outcome measure_pairs(const Settings& s,
                      const std::function<std::optional<Sample>(int pair, int attempt)>& measure);

// The median and saturation of pairs already judged (the end of measure_pairs).
void summarize(Outcome& o, const Settings& s);

}  // namespace grader::perf
