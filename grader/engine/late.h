// The late rule, written once: the engine applies it for score.json, the gradebook again with
// the extensions known when the gradebook is built. Pure; table-tested (test_manifest.cc).
#pragma once

#include <cstdint>
#include <optional>

namespace grader {

struct LateRule {
  std::optional<int64_t> due_epoch;  // none: nothing is ever late
  double percent_per_day = 0;
  std::optional<double> max_days;  // past it, everything is taken; none: no cap beyond 100%
};

// The due date moved by `extension_days` (none without a due date). Extensions are clamped to
// what a calendar can hold.
std::optional<int64_t> extended_due(const LateRule& rule, std::optional<double> extension_days);

// Whole days started after the due date plus `extension_days` (0 when on time, when there is
// no due date or no submission time).
int64_t late_days(const LateRule& rule, std::optional<int64_t> submitted_epoch,
                  std::optional<double> extension_days);

// The share of the points taken for `days` late, in percent: percent_per_day a day, at most
// 100; past max_days, 100.
double late_penalty_percent(const LateRule& rule, int64_t days);

}  // namespace grader
