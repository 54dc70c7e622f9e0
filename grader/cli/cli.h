// The grader command line: main.cc builds the app; each group of commands lives in its own
// file and registers itself here.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "grader/engine/engine.h"

namespace grader::cli {

// Settings every command shares, filled by main before a command's callback runs.
struct Context {
  int verbosity = 0;   // -q: -1, default 0, -v: 1, -vv: 2
  bool color = false;  // only on a TTY and never with NO_COLOR
  int exit_code = 0;   // set by the command that ran
};

// Exit codes, documented in the README.
inline constexpr int kExitGraded = 0;
inline constexpr int kExitBelowMinScore = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUngradable = 3;

// --time-scale X, default $GRADER_TIME_SCALE, else 1: multiplies every CPU and wall limit, for
// a host slower than the one the limits were set on (a VM without KVM, an old machine).
void add_time_scale_option(CLI::App* cmd, double& scale);
// One line on stderr when the scale is not 1: a scale is never applied silently.
void announce_time_scale(const char* command, double scale);

// Runs a command body, mapping errors to exit codes and one readable line: InputError (bad
// input or usage) 2, anything else 3.
template <typename Body>
void guarded(Context& ctx, const char* command, Body body) {
  try {
    ctx.exit_code = body();
  } catch (const InputError& e) {
    std::cerr << "grader " << command << ": " << e.what() << "\n";
    ctx.exit_code = kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "grader " << command << ": " << e.what() << "\n";
    ctx.exit_code = kExitUngradable;
  }
}

void add_engine_commands(CLI::App& app, Context& ctx);      // check, grade, selftest
void add_author_commands(CLI::App& app, Context& ctx);      // validate, new, variant
void add_batch_commands(CLI::App& app, Context& ctx);       // batch, gradebook, merge, slurm
void add_gradescope_commands(CLI::App& app, Context& ctx);  // gradescope

}  // namespace grader::cli
