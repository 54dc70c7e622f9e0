// The one way the grader starts a program: posix_spawn (vfork-like, so nothing of a large,
// multi-threaded grader is copied), stdin from /dev/null, no descriptor but 0-2 inherited.
// The sandbox's own fork and clone (its box) and the namespace probe are not spawns.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace common {

struct Command {
  std::vector<std::string> argv;  // argv[0] is a path: PATH is not searched
  std::filesystem::path output;   // stdout and stderr go here (created or truncated)
  mode_t output_mode = 0600;
  bool own_process_group = false;  // kill(-pid) then reaches everything it starts
};

// Starts `c`. Returns its pid, or nothing with `error` saying why ("cannot start PROGRAM: ...").
std::optional<pid_t> spawn(const Command& c, std::string& error);

// How a wait for a program ended.
struct Waited {
  enum class End { Exited, Deadline, Failed } end = End::Failed;
  int exit_status = -1;  // Exited: its status; -1 when a signal ended it
  std::string error;     // Failed: why
};

// Waits for `pid` to end, at most until `deadline`, when it is killed and reaped. Wakes the
// moment it ends (a pidfd), not at a polling tick.
Waited wait_until(pid_t pid, std::chrono::steady_clock::time_point deadline);

// What a program printed and how it ended.
struct Finished {
  int exit_status = -1;  // -1: ended by a signal, or never started
  std::string out, err;  // stdout and stderr, each whole
  std::string error;     // why it could not be started, read or waited for; empty otherwise
};

// Runs argv to its end, reading its stdout and stderr through pipes (both at once, so a
// large output cannot block it). `environment` ("NAME=value" entries) replaces this
// process's environment when given.
Finished run_to_end(const std::vector<std::string>& argv,
                    const std::optional<std::vector<std::string>>& environment = std::nullopt);

}  // namespace common
