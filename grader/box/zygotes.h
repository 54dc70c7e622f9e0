// Warm-start zygotes (sandbox/README.md, "Warm start") for the gradings of one grader
// process: one per (interpreter, preload list, environment), started when first asked for
// (warm_up: at a grading's start, so that its imports overlap the intake and build),
// restarted when it died, shared by every grading and thread of the process (batch -j N, the
// self-test's jobs), and ended with the pool.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace grader {

struct ZygoteKey {
  std::string python;
  std::vector<std::string> preload;
  std::map<std::string, std::string> env;  // the manifest's runtime env (e.g. OMP_NUM_THREADS)
  auto operator<=>(const ZygoteKey&) const = default;
};

// Whether gradings start warm where a manifest preloads modules: not with GRADER_WARM=0, and
// only as root (a zygote's runners join boxes' namespaces). Otherwise the reason.
std::string warm_start_unavailable();

class Zygotes {
 public:
  explicit Zygotes(std::filesystem::path sandbox) : sandbox_(std::move(sandbox)) {}
  ~Zygotes();
  Zygotes(const Zygotes&) = delete;
  Zygotes& operator=(const Zygotes&) = delete;

  // Starts the zygote for `key` if none runs, without waiting for it: its imports then
  // overlap the grading's intake and build.
  void warm_up(const ZygoteKey& key);

  // The socket of a listening zygote for `key`, started and waited for here if need be; or
  // an empty string with `why` set, and the runs start cold.
  std::string socket_for(const ZygoteKey& key, std::string& why);

 private:
  struct Zygote {
    pid_t pid = -1;
    bool listening = false;
    std::filesystem::path socket;
    std::filesystem::path log;
    int starts = 0;
    std::string failure;  // why it could not be started (given up on)
  };
  // Forgets a zygote that died, so that it is started again.
  static void reap_if_dead(Zygote& z);
  // The entry for `key`, its zygote launched unless one runs or it was given up on (mutex_ held).
  Zygote& launched(const ZygoteKey& key);
  std::string launch(const ZygoteKey& key, Zygote& z);
  std::string wait_until_listening(Zygote& z);

  std::filesystem::path sandbox_;
  std::filesystem::path dir_;  // private folder of the sockets (0700)
  std::mutex mutex_;
  std::map<ZygoteKey, Zygote> zygotes_;
};

}  // namespace grader
