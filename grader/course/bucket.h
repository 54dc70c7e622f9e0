// The assignment bucket of the course grade (50 points: 10 per assignment), written once.
// Pure; table-tested (tests/test_bucket.cc).
#pragma once

#include <optional>
#include <vector>

namespace grader {

struct Bucket {
  std::optional<double> total;  // none while any assignment needs attention (ungradable)
  double so_far = 0;            // the graded assignments' part alone
};

// Each assignment's percent (none: needs attention; a missing submission is 0) times
// `per_assignment` points, summed and rounded to hundredths.
Bucket bucket_of(const std::vector<std::optional<double>>& percents, double per_assignment);

}  // namespace grader
