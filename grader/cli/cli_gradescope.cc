// `grader gradescope`: the autograder zip for Gradescope, and the grading run inside it.
// `grader container-check`: what the sandbox can use in this container, and how to get more.
#include <filesystem>
#include <iostream>

#include "grader/cli/cli.h"
#include "grader/course/container_check.h"
#include "grader/course/gradescope.h"
#include "grader/engine/engine.h"

namespace grader::cli {
namespace fs = std::filesystem;

namespace {

// What `grader gradescope` was given.
struct GradescopeOptions {
  std::string assignment;
  std::string out = "autograder.zip";
  std::string run_root;
  int timeout = 540;
};

// With --run, grades as run_autograder does; else writes the autograder zip, with a warning
// when --timeout is too short for the assignment's slowest submission.
int run_gradescope(const Context& ctx, const GradescopeOptions& options) {
  const fs::path assignment_dir = resolve_assignment(options.assignment);
  if (!options.run_root.empty())
    return gradescope::run(assignment_dir, options.run_root, std::cout);
  gradescope::PackageOptions package;
  package.assignment_dir = assignment_dir;
  package.out_zip = options.out;
  package.bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
  package.templates_dir = gradescope::find_templates_dir();
  package.timeout_seconds = options.timeout;
  const auto entries = gradescope::write_autograder_zip(package);
  // Each run of the student's code has its own limits, but together they may not fit in
  // run_autograder's budget: then a slow submission is cut off with no score at all.
  const double worst = gradescope::worst_case_seconds(load_manifest(assignment_dir));
  if (worst > options.timeout)
    std::cerr << "grader gradescope: warning: --timeout " << options.timeout
              << " s is below the assignment's worst case (" << static_cast<int>(worst)
              << " s, every run of the student's code using its whole wall limit): a "
                 "slow submission can be cut off ungraded; raise --timeout (and "
                 "Gradescope's own limit) or lower the limits\n";
  if (ctx.verbosity >= 0)
    std::cout << "wrote " << options.out << " (" << entries.size()
              << " files): upload it as the Gradescope autograder; pick a base image "
                 "with glibc 2.36 or newer (Debian 12, Ubuntu 24.04)\n";
  return kExitGraded;
}

// `grader gradescope`: what a course uploads to Gradescope, and (--run) what runs there.
void add_gradescope_command(CLI::App& app, Context& ctx) {
  auto options = std::make_shared<GradescopeOptions>();
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
    guarded(ctx, "gradescope", [&] { return run_gradescope(ctx, *options); });
  });
}

// Prints what the sandbox can use here, as text with advice or as JSON.
void print_container_check(bool as_json) {
  const ContainerProbe probe = probe_container();
  if (as_json) {
    std::cout << container_probe_json(probe).dump(2) << "\n";
    return;
  }
  const std::string advice = container_advice(probe);
  std::cout << "container: " << (probe.container.empty() ? "no" : probe.container)
            << "\nuser namespaces: " << (probe.user_namespace ? "yes" : "no")
            << "\nfresh /proc: " << (probe.proc_mount ? "yes" : "no")
            << "\nnetwork namespace: " << (probe.network_namespace ? "yes" : "no")
            << "\nhostname in a namespace: " << (probe.hostname ? "yes" : "no")
            << "\ncgroups: " << probe.cgroup << "\n"
            << advice;
}

// `grader container-check`: before a course builds its image, whether the sandbox fits in it.
void add_container_check_command(CLI::App& app, Context& ctx) {
  auto as_json = std::make_shared<bool>(false);
  auto* check = app.add_subcommand(
      "container-check",
      "Say whether the sandbox has what it needs here (user namespaces, /proc, cgroups) and "
      "which docker/podman run options give the rest");
  check->add_flag("--json", *as_json, "Print JSON (schema_version 1)");
  check->callback([as_json, &ctx] {
    print_container_check(*as_json);
    ctx.exit_code = kExitGraded;
  });
}

}  // namespace

void add_gradescope_commands(CLI::App& app, Context& ctx) {
  add_gradescope_command(app, ctx);
  add_container_check_command(app, ctx);
}

}  // namespace grader::cli
