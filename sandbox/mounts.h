// The box's file system: a minimal read-only root on a tmpfs, built inside the new mount
// namespace, then pivot_root into it.
#pragma once

#include <vector>

#include "sandbox/policy.h"

namespace sandbox {

// Runs in the box's init before the program starts; `in_user_namespace` when the box has its
// own user namespace (unprivileged). Throws std::runtime_error naming the mount that failed.
// Returns an open folder descriptor for the root of each of the policy's tmpfs, in order,
// seeded: they outlive the box's mount namespace for the supervisor to read and drop.
std::vector<int> build_root(const Policy& policy, bool in_user_namespace);

}  // namespace sandbox
