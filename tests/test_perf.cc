// The perf arithmetic on tables of timings (no process starts): start-up from the baseline
// alone, implausible pairs re-measured then counted as noise, more pairs when too few are
// valid, saturation at the top threshold.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "grader/engine/perf.h"

using grader::perf::Outcome;
using grader::perf::Pair;
using grader::perf::Sample;
using grader::perf::Settings;

namespace {

// Iterations [1, 41]; full points at 3x; plausible up to 30x.
Settings settings(int pairs = 3) { return Settings{1, 41, pairs, 3.0, 30.0}; }

// A run of `iterations` for code with this start-up and per-iteration time.
double seconds(double startup, double per_iteration, int64_t iterations) {
  return startup + per_iteration * static_cast<double>(iterations);
}

// Baseline: 0.5 s start-up, 50 ms per iteration. Student: `startup`, `per_iteration`.
Sample sample(double startup, double per_iteration) {
  return {seconds(0.5, 0.05, 1), seconds(0.5, 0.05, 41), seconds(startup, per_iteration, 41)};
}

// measure_pairs over a table: table[pair][attempt]; a missing entry stops the measurement.
struct Table {
  std::map<int, std::vector<Sample>> rows;
  int calls = 0;
  Outcome run(const Settings& s) {
    return grader::perf::measure_pairs(s, [&](int pair, int attempt) -> std::optional<Sample> {
      ++calls;
      auto it = rows.find(pair);
      if (it == rows.end() || attempt >= static_cast<int>(it->second.size())) return std::nullopt;
      return it->second[static_cast<size_t>(attempt)];
    });
  }
};

}  // namespace

TEST(PerfJudge, StartupComesFromTheBaselineAlone) {
  Pair p = grader::perf::judge(sample(0.5, 0.01), settings());
  EXPECT_TRUE(p.valid) << p.problem;
  EXPECT_NEAR(p.startup, 0.5, 1e-12);
  EXPECT_NEAR(p.speedup, 2.05 / 0.41, 1e-9);  // 5x: 50 ms against 10 ms per iteration
  // The same code as the baseline: 1x.
  EXPECT_NEAR(grader::perf::judge(sample(0.5, 0.05), settings()).speedup, 1.0, 1e-9);
}

// The student runs only at the high count; a slower start-up (a slow import, work done on
// purpose when it thinks it is being timed) only lowers its speedup.
TEST(PerfJudge, AStudentCanOnlyLoseByBeingSlow) {
  double previous = 1e9;
  for (double startup : {0.5, 0.6, 1.0, 3.0}) {
    Pair p = grader::perf::judge(sample(startup, 0.01), settings());
    ASSERT_TRUE(p.valid) << p.problem;
    EXPECT_LT(p.speedup, previous) << startup;
    previous = p.speedup;
  }
  // The old rule's attack: slow in the low run (2 s), normal in the high run. The old
  // differencing gave (b_high - b_low) / max(s_high - s_low, 1 ms) = 2000x; here the low run
  // does not exist, and the high run alone earns the naive kernel's 1x.
  Sample naive = sample(0.5, 0.05);
  double old_rule = (naive.b_high - naive.b_low) / std::max(naive.s_high - 2.55, 1e-3);
  EXPECT_GT(old_rule, 1000.0);
  EXPECT_NEAR(grader::perf::judge(naive, settings()).speedup, 1.0, 1e-9);
}

TEST(PerfJudge, ImplausiblePairsAreNoise) {
  // Negative difference: the baseline's high run was faster than its low run.
  Pair p = grader::perf::judge({2.0, 1.9, 0.9}, settings());
  EXPECT_FALSE(p.valid);
  EXPECT_NE(p.problem.find("baseline was not slower"), std::string::npos) << p.problem;
  EXPECT_EQ(p.speedup, 0.0);  // never a huge speedup
  // Equal baseline runs.
  EXPECT_FALSE(grader::perf::judge({1.0, 1.0, 0.9}, settings()).valid);
  // A slow baseline low run (a noisy neighbour) lifts the start-up estimate above the
  // student's whole run.
  p = grader::perf::judge({2.4, 2.55, 0.9}, settings());
  EXPECT_FALSE(p.valid);
  EXPECT_NE(p.problem.find("shorter than the baseline's start-up"), std::string::npos) << p.problem;
  // The student's run equal to the start-up: a zero denominator.
  p = grader::perf::judge({0.55, 2.55, 0.5}, settings());
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.speedup, 0.0);
  // Just above the start-up: 2.05 / 0.01 = 205x, above the plausible 30x.
  p = grader::perf::judge({0.55, 2.55, 0.51}, settings());
  EXPECT_FALSE(p.valid);
  EXPECT_NE(p.problem.find("above the plausible 30x"), std::string::npos) << p.problem;
}

TEST(PerfJudge, NegativeStartupEstimateIsZero) {
  // Noise makes the extrapolation negative: start-up 0, not a bonus for the student.
  Pair p = grader::perf::judge({0.01, 2.55, 0.5}, Settings{10, 41, 3, 3.0, 30.0});
  EXPECT_EQ(p.startup, 0.0);
  EXPECT_TRUE(p.valid);
  EXPECT_NEAR(p.speedup, 2.55 / 0.5, 1e-9);
}

TEST(PerfOrder, StudentBetweenTheBaselineRunsAlternating) {
  using R = grader::perf::Run;
  using A = std::array<R, 3>;
  EXPECT_EQ(grader::perf::run_order(0), (A{R::BaselineLow, R::StudentHigh, R::BaselineHigh}));
  EXPECT_EQ(grader::perf::run_order(1), (A{R::BaselineHigh, R::StudentHigh, R::BaselineLow}));
  EXPECT_EQ(grader::perf::run_order(2), grader::perf::run_order(0));
}

TEST(PerfMeasure, NoisyPairsAreRetriedThenExcluded) {
  Table t;
  Sample good = sample(0.5, 0.01), slower = sample(0.5, 0.0125), bad = {2.0, 1.9, 0.9};
  t.rows = {{0, {bad, good}}, {1, {bad, bad, bad}}, {2, {slower}}, {3, {good}}};
  Outcome o = t.run(settings());
  EXPECT_FALSE(o.stopped);
  EXPECT_FALSE(o.too_noisy);
  ASSERT_EQ(o.pairs.size(), 3u);  // two valid of three: no extra pair
  EXPECT_EQ(t.calls, 2 + 3 + 1);
  EXPECT_TRUE(o.pairs[0].valid);
  EXPECT_EQ(o.pairs[0].retries, 1);
  EXPECT_FALSE(o.pairs[1].valid);
  EXPECT_EQ(o.pairs[1].retries, 2);
  EXPECT_EQ(o.valid, 2);
  // The median of 5x and 4x; the noise counts for nothing.
  EXPECT_NEAR(o.median, (5.0 + 2.05 / 0.5125) / 2, 1e-9);
  EXPECT_DOUBLE_EQ(o.used, 3.0);
  EXPECT_TRUE(o.saturated);
}

TEST(PerfMeasure, SaturatesAtTheTopThresholdOnly) {
  Table t;
  Sample two_x = sample(0.5, 0.025);
  t.rows = {{0, {two_x}}, {1, {two_x}}, {2, {two_x}}};
  Outcome o = t.run(settings());
  EXPECT_NEAR(o.median, 2.0, 1e-9);
  EXPECT_NEAR(o.used, 2.0, 1e-9);
  EXPECT_FALSE(o.saturated);
}

TEST(PerfMeasure, TooFewValidPairsMeasuresMoreThenGivesUp) {
  Table t;
  Sample good = sample(0.5, 0.02), bad = {1.0, 1.0, 0.9};
  // One valid pair of three: pairs 3.. are added until two are valid.
  t.rows = {{0, {bad, bad, bad}}, {1, {good}}, {2, {bad, bad, bad}},
            {3, {bad, bad, bad}}, {4, {good}}, {5, {good}}};
  Outcome o = t.run(settings());
  EXPECT_FALSE(o.too_noisy);
  EXPECT_EQ(o.pairs.size(), 5u);
  EXPECT_EQ(o.valid, 2);
  EXPECT_NEAR(o.median, 2.05 / 0.82, 1e-9);

  // Nothing valid: 2 x pairs pairs, each tried three times, then too noisy (ungradable).
  Table noise;
  for (int i = 0; i < 6; ++i) noise.rows[i] = {bad, bad, bad};
  o = noise.run(settings());
  EXPECT_TRUE(o.too_noisy);
  EXPECT_EQ(noise.calls, 6 * 3);
  EXPECT_EQ(o.valid, 0);
  EXPECT_EQ(o.used, 0.0);
}

TEST(PerfMeasure, EqualRunsAreNotASpeedup) {
  // Student and baseline take the same time: 1x on every pair.
  Table t;
  Sample same = sample(0.5, 0.05);
  t.rows = {{0, {same}}, {1, {same}}};
  Outcome o = t.run(settings(2));
  EXPECT_EQ(o.valid, 2);
  EXPECT_NEAR(o.median, 1.0, 1e-9);
  EXPECT_FALSE(o.saturated);
}

TEST(PerfMeasure, AFailedRunStops) {
  Table t;
  t.rows = {{0, {sample(0.5, 0.01)}}};  // pair 1 has no entry: the student's run failed
  Outcome o = t.run(settings());
  EXPECT_TRUE(o.stopped);
  EXPECT_FALSE(o.too_noisy);
  EXPECT_EQ(o.pairs.size(), 1u);
  EXPECT_EQ(grader::perf::needed_valid(3), 2);
  EXPECT_EQ(grader::perf::needed_valid(2), 1);
  EXPECT_EQ(grader::perf::needed_valid(1), 1);
}

TEST(PerfJudge, APairThatMixesWarmAndColdStartsIsNoise) {
  // A baseline run started cold (its zygote was being restarted) beside warm runs: its extra
  // start-up would count as the baseline's work and inflate the speedup.
  Sample mixed = sample(0.5, 0.01);
  mixed.same_start = false;
  Pair p = grader::perf::judge(mixed, settings());
  EXPECT_FALSE(p.valid);
  EXPECT_NE(p.problem.find("start the same way"), std::string::npos) << p.problem;
  EXPECT_TRUE(grader::perf::judge(sample(0.5, 0.01), settings()).valid);
}

// warm_iterations: a warm pair is judged at its own counts, and counts only if it started warm.
TEST(PerfJudge, AWarmPairUsesTheWarmCounts) {
  Settings s = settings();
  s.warm = {{2, 21}};
  // Baseline 0.01 s start-up and 50 ms per iteration at [2, 21]; student 10 ms per iteration.
  Sample warm{seconds(0.01, 0.05, 2), seconds(0.01, 0.05, 21), seconds(0.01, 0.01, 21)};
  warm.at_warm_counts = warm.started_warm = true;
  Pair p = grader::perf::judge(warm, s);
  EXPECT_TRUE(p.valid) << p.problem;
  EXPECT_NEAR(p.startup, 0.01, 1e-12);  // extrapolated from 2 and 21, not from 1 and 41
  EXPECT_NEAR(p.speedup, 5.0, 1e-9);
  EXPECT_EQ(grader::perf::counts_of(warm, s), std::make_pair(int64_t{2}, int64_t{21}));
  // The same times read at the cold counts would put the start-up elsewhere.
  warm.at_warm_counts = false;
  EXPECT_EQ(grader::perf::counts_of(warm, s), std::make_pair(int64_t{1}, int64_t{41}));
  EXPECT_GT(std::abs(grader::perf::judge(warm, s).startup - 0.01), 0.01);
  // All three runs started cold (the zygote was given up on) at the warm counts: noise, since
  // a cold start-up's jitter is larger than the work sized for warm ones.
  warm.at_warm_counts = true;
  warm.started_warm = false;
  p = grader::perf::judge(warm, s);
  EXPECT_FALSE(p.valid);
  EXPECT_NE(p.problem.find("sized for warm starts"), std::string::npos) << p.problem;
}

namespace {

// The manifest's thresholds [[3, 1], [2, 0.5]] as bands.
Settings banded(int pairs = 3) {
  Settings s = settings(pairs);
  s.bands = {3.0, 2.0};
  return s;
}

}  // namespace

TEST(PerfBands, ASpeedupsBandIsTheFirstThresholdItReaches) {
  const std::vector<double> bands = {3.0, 2.0};
  EXPECT_EQ(grader::perf::band_of(7.0, bands), 0u);
  EXPECT_EQ(grader::perf::band_of(3.0, bands), 0u);
  EXPECT_EQ(grader::perf::band_of(2.9, bands), 1u);
  EXPECT_EQ(grader::perf::band_of(2.0, bands), 1u);
  EXPECT_EQ(grader::perf::band_of(1.99, bands), 2u);
}

TEST(PerfMeasure, TwoPairsInOneBandDecideThree) {
  struct Row {
    const char* what;
    std::vector<std::vector<Sample>> pairs;  // per pair, its attempts
    int calls;                               // measurements taken
    bool decided;
  };
  Sample five_x = sample(0.5, 0.01), four_x = sample(0.5, 0.0125), two_x = sample(0.5, 0.024),
         one_x = sample(0.5, 0.05), bad = {2.0, 1.9, 0.9};
  const std::vector<Row> rows = {
      {"both above the top threshold", {{five_x}, {four_x}, {one_x}}, 2, true},
      {"both in the half-points band", {{two_x}, {two_x}, {five_x}}, 2, true},
      {"both below every threshold", {{one_x}, {one_x}, {five_x}}, 2, true},
      {"in two bands: the third decides", {{five_x}, {two_x}, {one_x}}, 3, false},
      {"the first is noise: the third is needed", {{bad, bad, bad}, {five_x}, {five_x}}, 5, false},
      {"noise retried into the band", {{bad, five_x}, {five_x}, {one_x}}, 3, true},
  };
  for (const Row& r : rows) {
    Table t;
    for (size_t i = 0; i < r.pairs.size(); ++i) t.rows[static_cast<int>(i)] = r.pairs[i];
    Outcome o = t.run(banded());
    EXPECT_EQ(t.calls, r.calls) << r.what;
    EXPECT_EQ(o.decided, r.decided) << r.what;
    EXPECT_FALSE(o.too_noisy) << r.what;
    // Without bands every pair is measured; the band of the median is the same.
    Table full;
    full.rows = t.rows;
    Outcome all = full.run(settings());
    EXPECT_FALSE(all.decided) << r.what;
    EXPECT_EQ(grader::perf::band_of(o.median, {3.0, 2.0}),
              grader::perf::band_of(all.median, {3.0, 2.0}))
        << r.what;
  }
}

TEST(PerfMeasure, AnEarlyDecisionNeverChangesTheBand) {
  // Every combination of three pairs' speedups around the thresholds: the band of the median
  // with the early stop equals the band of the median of all three.
  const std::vector<double> speedups = {0.8, 1.5, 1.99, 2.0, 2.5, 2.99, 3.0, 4.0, 9.0};
  // No start-up (the baseline is 0 s + 2 s per iteration): the speedup is 4 / s_high.
  auto at = [](double x) { return Sample{2.0, 4.0, 4.0 / x}; };
  for (double a : speedups)
    for (double b : speedups)
      for (double c : speedups) {
        Settings s{1, 2, 3, 3.0, 30.0, {3.0, 2.0}};
        Table early, full;
        early.rows = full.rows = {{0, {at(a)}}, {1, {at(b)}}, {2, {at(c)}}};
        Settings no_bands = s;
        no_bands.bands.clear();
        const Outcome e = early.run(s), f = full.run(no_bands);
        ASSERT_EQ(f.valid, 3);
        EXPECT_EQ(grader::perf::band_of(e.median, s.bands),
                  grader::perf::band_of(f.median, s.bands))
            << a << " " << b << " " << c;
      }
}
