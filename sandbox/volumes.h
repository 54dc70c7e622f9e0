// The box's own tmpfs, seen from the supervisor. Init mounts and seeds them (mounts.cc) and
// sends their roots here; after the run each is measured, its regular files are copied to the
// host folder the policy names, and it is dropped with its last descriptor: one close, however
// deep or wide the tree the box left in it.
#pragma once

#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/result.h"

namespace sandbox {

// Measures, collects and closes the tmpfs roots init sent (`roots`, in the policy's order;
// emptied here). A collect folder that cannot be written is a failure of the run: `error`.
// With `collect` false nothing is copied out (a run whose outputs cannot be vouched for).
std::vector<VolumeResult> finish_volumes(const Policy& policy, std::vector<int>& roots,
                                         std::string& error, bool collect);

// Without a mount namespace the box has no tmpfs of its own: each becomes a host folder (its
// collect folder, or a temporary one listed in `temporary` for removal afterwards), seeded
// here and bound by path, without caps. Returns the policy to run with.
Policy tmpfs_as_host_folders(const Policy& policy, std::vector<std::string>& temporary,
                             std::string& error);

}  // namespace sandbox
