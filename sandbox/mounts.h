// The box's file system: a minimal read-only root on a tmpfs, built inside the new mount
// namespace, then pivot_root into it.
#pragma once

#include "sandbox/policy.h"

namespace sandbox {

// Runs in the box's init before the program starts. Throws std::runtime_error naming the
// mount that failed.
void build_root(const Policy& policy);

}  // namespace sandbox
