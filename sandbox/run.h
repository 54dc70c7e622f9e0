// The supervisor: one run from policy to result.
#pragma once

#include "sandbox/policy.h"
#include "sandbox/result.h"

namespace sandbox {

struct RunOptions {
  bool verbose = false;  // log each step to stderr
};

// Carries out one run. Never throws; problems of the sandbox itself give a SandboxError
// verdict with `error` set.
Result run(const Policy& policy, const RunOptions& options = {});

}  // namespace sandbox
