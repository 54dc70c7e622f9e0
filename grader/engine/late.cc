#include "grader/engine/late.h"

#include <algorithm>
#include <cmath>

namespace grader {

std::optional<int64_t> extended_due(const LateRule& rule, std::optional<double> extension_days) {
  if (!rule.due_epoch) return std::nullopt;
  // Within what a calendar can hold: a cast of a number beyond int64 is undefined.
  const double extension = std::clamp(extension_days.value_or(0), -1e6, 1e6);
  return *rule.due_epoch + std::llround(extension * 86400.0);
}

int64_t late_days(const LateRule& rule, std::optional<int64_t> submitted,
                  std::optional<double> extension_days) {
  const std::optional<int64_t> due = extended_due(rule, extension_days);
  if (!due || !submitted || *submitted <= *due) return 0;
  return (*submitted - *due + 86399) / 86400;
}

double late_penalty_percent(const LateRule& rule, int64_t days) {
  if (days <= 0) return 0;
  if (rule.max_days && static_cast<double>(days) > *rule.max_days) return 100.0;
  return std::min(100.0, static_cast<double>(days) * rule.percent_per_day);
}

}  // namespace grader
