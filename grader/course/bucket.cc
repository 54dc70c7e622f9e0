#include "grader/course/bucket.h"

#include <cmath>

namespace grader {

Bucket bucket_of(const std::vector<std::optional<double>>& percents, double per_assignment) {
  double sum = 0;
  bool attention = false;
  for (const std::optional<double>& percent : percents) {
    if (percent)
      sum += *percent / 100.0 * per_assignment;
    else
      attention = true;
  }
  const double rounded = std::round(sum * 100) / 100;
  return {attention ? std::nullopt : std::optional(rounded), rounded};
}

}  // namespace grader
