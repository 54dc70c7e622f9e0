// `grader gradescope`: the autograder zip for Gradescope, and the grading run inside it.
// `grader container-check`: what the sandbox can use in this container, and how to get more.
#include <filesystem>
#include <iostream>

#include "grader/cli.h"
#include "grader/container_check.h"
#include "grader/engine.h"
#include "grader/gradescope.h"

namespace grader::cli {
namespace fs = std::filesystem;

void add_gradescope_commands(CLI::App& app, Context& ctx) {
  struct Options {
    std::string assignment;
    std::string out = "autograder.zip";
    std::string run_root;
    int timeout = 540;
    bool json = false;
  };
  auto options = std::make_shared<Options>();

  auto* gradescope = app.add_subcommand(
      "gradescope",
      "Write the autograder zip to upload to Gradescope (setup.sh, run_autograder, the "
      "grader, the assignment); with --run, grade as run_autograder does");
  gradescope->add_option("assignment", options->assignment, "Assignment id or folder")->required();
  gradescope->add_option("--out", options->out, "Zip to write")->capture_default_str();
  gradescope
      ->add_option("--timeout", options->timeout,
                   "Seconds run_autograder allows the grader before giving up (set it "
                   "below the Gradescope assignment's timeout)")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600));
  gradescope->add_option("--run", options->run_root,
                         "Grade ROOT/submission with ROOT/submission_metadata.json and write "
                         "ROOT/results/results.json (what run_autograder does; ROOT is "
                         "/autograder on Gradescope)");
  gradescope->callback([options, &ctx] {
    try {
      const fs::path assignment_dir = resolve_assignment(options->assignment);
      if (!options->run_root.empty()) {
        ctx.exit_code = gradescope::run(assignment_dir, options->run_root, std::cout);
        return;
      }
      gradescope::PackageOptions package;
      package.assignment_dir = assignment_dir;
      package.out_zip = options->out;
      package.bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
      package.templates_dir = gradescope::find_templates_dir();
      package.timeout_seconds = options->timeout;
      const auto entries = gradescope::write_autograder_zip(package);
      // Each run of the student's code has its own limits, but together they may not fit in
      // run_autograder's budget: then a slow submission is cut off with no score at all.
      const double worst = gradescope::worst_case_seconds(load_manifest(assignment_dir));
      if (worst > options->timeout)
        std::cerr << "grader gradescope: warning: --timeout " << options->timeout
                  << " s is below the assignment's worst case (" << static_cast<int>(worst)
                  << " s, every run of the student's code using its whole wall limit): a "
                     "slow submission can be cut off ungraded; raise --timeout (and "
                     "Gradescope's own limit) or lower the limits\n";
      if (ctx.verbosity >= 0)
        std::cout << "wrote " << options->out << " (" << entries.size()
                  << " files): upload it as the Gradescope autograder; pick a base image "
                     "with glibc 2.36 or newer (Debian 12, Ubuntu 24.04)\n";
      ctx.exit_code = kExitGraded;
    } catch (const InputError& error) {
      std::cerr << "grader gradescope: " << error.what() << "\n";
      ctx.exit_code = kExitUsage;
    } catch (const std::exception& error) {
      std::cerr << "grader gradescope: " << error.what() << "\n";
      ctx.exit_code = kExitUngradable;
    }
  });

  auto* check = app.add_subcommand(
      "container-check",
      "Say whether the sandbox has what it needs here (user namespaces, /proc, cgroups) and "
      "which docker/podman run options give the rest");
  check->add_flag("--json", options->json, "Print JSON (schema_version 1)");
  check->callback([options, &ctx] {
    const ContainerProbe probe = probe_container();
    if (options->json) {
      std::cout << container_probe_json(probe).dump(2) << "\n";
    } else {
      const std::string advice = container_advice(probe);
      std::cout << "container: " << (probe.container.empty() ? "no" : probe.container)
                << "\nuser namespaces: " << (probe.user_namespace ? "yes" : "no")
                << "\nfresh /proc: " << (probe.proc_mount ? "yes" : "no")
                << "\nnetwork namespace: " << (probe.network_namespace ? "yes" : "no")
                << "\nhostname in a namespace: " << (probe.hostname ? "yes" : "no")
                << "\ncgroups: " << probe.cgroup << "\n"
                << advice;
    }
    ctx.exit_code = kExitGraded;
  });
}

}  // namespace grader::cli
