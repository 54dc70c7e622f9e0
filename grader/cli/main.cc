// grader: grade ML-systems assignments in a sandbox. Commands live in cli_*.cc.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "grader/cli/cli.h"

namespace {

// Edit distance (insertions, deletions, substitutions), for "did you mean".
size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The command closest to a mistyped one, or "" when none is close.
std::string closest_command(const CLI::App& app, const std::string& typed) {
  std::string best;
  size_t best_distance = 3;  // more than two edits away is another word
  for (const CLI::App* sub : app.get_subcommands({})) {
    size_t d = distance(typed, sub->get_name());
    if (d < best_distance) best_distance = d, best = sub->get_name();
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  grader::cli::Context ctx;
  CLI::App app{"grader: sandboxed autograder for the ML-systems course"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("grader ") + GRADER_VERSION);
  int quiet = 0;
  int verbose = 0;
  app.add_flag("-q,--quiet", quiet, "Print less")->trigger_on_parse();
  app.add_flag("-v,--verbose", verbose, "Print more (repeatable)")->trigger_on_parse();
  app.fallthrough();

  auto* help = app.add_subcommand("help", "Show help for grader or one of its commands");
  std::string help_topic;
  help->add_option("command", help_topic, "Command to describe");

  grader::cli::add_engine_commands(app, ctx);
  grader::cli::add_author_commands(app, ctx);
  grader::cli::add_batch_commands(app, ctx);
  grader::cli::add_gradescope_commands(app, ctx);

  // Verbosity and colour must be known before any command callback runs.
  app.parse_complete_callback([&] {
    ctx.verbosity = verbose - quiet;
    ctx.color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    // The first word was not a command: say which commands exist, and the likely one.
    const auto extras = app.remaining();
    if (app.get_subcommands().empty() && !extras.empty() && extras.front()[0] != '-') {
      std::string near = closest_command(app, extras.front());
      std::cerr << "grader: no command '" << extras.front() << "'"
                << (near.empty() ? "" : "; did you mean '" + near + "'?")
                << " ('grader help' lists the commands)\n";
      return grader::cli::kExitUsage;
    }
    app.exit(e);
    return grader::cli::kExitUsage;
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : grader::cli::kExitUsage;
  }
  if (help->parsed() || app.get_subcommands().empty()) {
    if (!help_topic.empty()) {
      try {
        std::cout << app.get_subcommand(help_topic)->help();
        return 0;
      } catch (const CLI::OptionNotFound&) {
        std::string near = closest_command(app, help_topic);
        std::cerr << "grader: no command '" << help_topic << "'"
                  << (near.empty() ? "" : "; did you mean '" + near + "'?")
                  << " ('grader help' lists the commands)\n";
        return grader::cli::kExitUsage;
      }
    }
    // The top-level help (app.help() would describe the `help` command itself once parsed).
    std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
    return help->parsed() ? 0 : grader::cli::kExitUsage;
  }
  return ctx.exit_code;
}
