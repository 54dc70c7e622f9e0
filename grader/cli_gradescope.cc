// Placeholder: the owner of these commands replaces this file.
#include "grader/cli.h"

namespace grader::cli {
void add_gradescope_commands(CLI::App& /*app*/, Context& /*ctx*/) {}
}  // namespace grader::cli
