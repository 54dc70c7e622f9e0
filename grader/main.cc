// grader: grade ML-systems assignments in a sandbox. Commands live in cli_*.cc.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "grader/cli.h"

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
  grader::cli::add_batch_commands(app, ctx);
  grader::cli::add_gradescope_commands(app, ctx);

  // Verbosity and colour must be known before any command callback runs.
  app.parse_complete_callback([&] {
    ctx.verbosity = verbose - quiet;
    ctx.color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  });

  try {
    app.parse(argc, argv);
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
        std::cerr << "grader: no command '" << help_topic << "'; see 'grader help'\n";
        return grader::cli::kExitUsage;
      }
    }
    std::cout << app.help();
    return help->parsed() ? 0 : grader::cli::kExitUsage;
  }
  return ctx.exit_code;
}
