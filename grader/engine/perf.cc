#include "grader/engine/perf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace grader::perf {

std::pair<int64_t, int64_t> counts_of(const Sample& t, const Settings& s) {
  if (t.at_warm_counts && s.warm) return *s.warm;
  return {s.low, s.high};
}

Pair judge(const Sample& t, const Settings& s) {
  Pair p;
  p.t = t;
  const auto [low, high] = counts_of(t, s);
  const double slope = (t.b_high - t.b_low) / static_cast<double>(high - low);
  // A start-up cannot be negative; extrapolation noise can make it so.
  p.startup = std::max(0.0, t.b_low - static_cast<double>(low) * slope);
  if (!t.same_start) {
    p.problem = "the pair's runs did not all start the same way (warm or cold)";
    return p;
  }
  if (t.at_warm_counts && !t.started_warm) {
    // Cold start-ups jitter by tenths of a second: more than the warm counts' work can outweigh.
    p.problem = "the pair's runs started cold, at the counts sized for warm starts";
    return p;
  }
  if (!(t.b_high > t.b_low)) {
    p.problem = "the baseline was not slower with more iterations";
    return p;
  }
  if (!(t.s_high > p.startup)) {
    p.problem = "the timed run was shorter than the baseline's start-up";
    return p;
  }
  p.speedup = (t.b_high - p.startup) / (t.s_high - p.startup);
  if (!std::isfinite(p.speedup) || p.speedup > s.max_plausible) {
    p.problem =
        fmt::format("speedup {:.3g}x is above the plausible {:g}x", p.speedup, s.max_plausible);
    return p;
  }
  p.valid = true;
  return p;
}

size_t band_of(double speedup, const std::vector<double>& bands) {
  size_t band = 0;
  while (band < bands.size() && speedup < bands[band]) ++band;
  return band;
}

namespace {

// The valid pairs so far share one band and are more than the `remaining` pairs wanted.
bool band_is_certain(const Outcome& o, const Settings& s, int remaining) {
  if (s.bands.empty() || remaining <= 0) return false;
  int valid = 0;
  std::optional<size_t> band;
  for (const Pair& p : o.pairs) {
    if (!p.valid) continue;
    ++valid;
    const size_t b = band_of(p.speedup, s.bands);
    if (band && *band != b) return false;
    band = b;
  }
  return valid > remaining;
}

}  // namespace

int needed_valid(int pairs) { return (std::max(pairs, 1) + 1) / 2; }

std::array<Run, 3> run_order(int pair) {
  if (pair % 2 == 0) return {Run::BaselineLow, Run::StudentHigh, Run::BaselineHigh};
  return {Run::BaselineHigh, Run::StudentHigh, Run::BaselineLow};
}

void summarize(Outcome& o, const Settings& s) {
  std::vector<double> speedups;
  for (const Pair& p : o.pairs) {
    if (p.valid) speedups.push_back(p.speedup);
  }
  o.valid = static_cast<int>(speedups.size());
  o.too_noisy = o.valid < needed_valid(s.pairs);
  if (speedups.empty()) {
    o.median = o.used = 0;
    o.saturated = false;
    return;
  }
  std::sort(speedups.begin(), speedups.end());
  const size_t n = speedups.size();
  o.median = n % 2 ? speedups[n / 2] : (speedups[n / 2 - 1] + speedups[n / 2]) / 2;
  o.saturated = o.median > s.top_threshold;
  o.used = std::min(o.median, s.top_threshold);
}

Outcome measure_pairs(const Settings& s,
                      const std::function<std::optional<Sample>(int, int)>& measure) {
  Outcome o;
  int valid = 0;
  // One pair, re-measured while implausible; false when a measurement stopped.
  auto one_pair = [&](int index) {
    for (int attempt = 0; attempt <= kRetriesPerPair; ++attempt) {
      std::optional<Sample> t = measure(index, attempt);
      if (!t) return false;
      Pair p = judge(*t, s);
      p.retries = attempt;
      if (attempt == 0) {
        o.pairs.push_back(p);
      } else {
        o.pairs.back() = p;
      }
      if (p.valid) {
        ++valid;
        break;
      }
    }
    return true;
  };
  const int wanted = std::max(s.pairs, 1);
  for (int i = 0; i < 2 * wanted; ++i) {
    if (i >= wanted && valid >= needed_valid(wanted)) break;
    if (!one_pair(i)) {
      o.stopped = true;
      break;
    }
    if (i < wanted && band_is_certain(o, s, wanted - i - 1)) {
      o.decided = true;
      break;
    }
  }
  summarize(o, s);
  if (o.stopped) o.too_noisy = false;
  return o;
}

}  // namespace grader::perf
