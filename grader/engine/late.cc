#include "grader/engine/late.h"

#include <algorithm>
#include <cmath>

namespace grader {

int64_t late_days(const LateRule& rule, std::optional<int64_t> submitted,
                  std::optional<double> extension_days) {
  if (!rule.due_epoch || !submitted) return 0;
  // Within what a calendar can hold: a cast of a number beyond int64 is undefined.
  const double extension = std::clamp(extension_days.value_or(0), -1e6, 1e6);
  const int64_t due = *rule.due_epoch + std::llround(extension * 86400.0);
  if (*submitted <= due) return 0;
  return (*submitted - due + 86399) / 86400;
}

double late_penalty_percent(const LateRule& rule, int64_t days) {
  if (days <= 0) return 0;
  if (rule.max_days && static_cast<double>(days) > *rule.max_days) return 100.0;
  return std::min(100.0, static_cast<double>(days) * rule.percent_per_day);
}

}  // namespace grader
