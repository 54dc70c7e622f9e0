// The grader's own error: every layer throws it, the CLI maps it (cli.h, guarded).
#pragma once

#include <stdexcept>

namespace grader {

// Bad input from the person running the grader (bad manifest, unknown assignment, bad
// option): the CLI maps it to exit code 2. The message names the file and the problem.
// A bad *student* submission is not an InputError: it is graded 0 with a reason (see
// reports/README.md), so a batch never loses a student.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace grader
