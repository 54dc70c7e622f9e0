// The policy: everything one sandbox run may do, in one place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandbox {

struct Bind {
  std::string src;  // host path
  std::string dst;  // path inside the box
  bool writable = false;
};

// A size- and inode-capped tmpfs of the box's own. It is also how a box gets a writable
// folder: `seed` (a host folder) is copied in before the program starts, and after the run the
// regular files are copied out to `collect` (a host folder the supervisor creates), bounded by
// the same caps. The box's tree itself never lands on the host: the tmpfs goes with one close.
struct Tmpfs {
  std::string dst;
  uint64_t size = 64ull << 20;
  uint64_t inodes = 16384;
  std::string seed;     // optional host folder, copied in (trusted)
  std::string collect;  // optional host folder, created; what the box left is copied here
};

enum class Network { None, Loopback };

// The uid and gid the untrusted program runs as inside the box.
inline constexpr int kBoxId = 65534;
// The box's own tmpfs travel to the supervisor as file descriptors in one message.
inline constexpr size_t kMaxTmpfs = 8;

struct Policy {
  std::vector<std::string> argv;
  double cpu_time = 10.0;  // seconds, all processes together
  double wall_time = 0.0;  // seconds; 0 means 3 x cpu_time
  uint64_t memory = 512ull << 20;
  uint64_t pids = 64;
  uint64_t output = 8ull << 20;  // stdout + stderr together
  uint64_t file_size = 64ull << 20;
  uint64_t open_files = 256;
  Network network = Network::None;
  std::vector<Bind> binds;
  std::vector<Tmpfs> tmpfs;
  std::string cwd = "/";
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdin_path = "/dev/null";
  std::string stdout_path;  // empty: discarded but counted
  std::string stderr_path;
  // Optional: the program's fd 3 is a pipe whose bytes the supervisor appends to this host
  // file as they come (at most channel_size), so they cannot be edited once written.
  std::string channel_path;
  uint64_t channel_size = 1ull << 20;
  uint64_t tmp_size = 256ull << 20;
  uint64_t shm_size = 64ull << 20;
  bool strict = false;  // refuse to run when a protection cannot be enforced
  // Optional: the socket of a warm-start zygote (warm.h). The program is then a fork of an
  // interpreter that imported its modules already; where it cannot be, it starts cold, and
  // the result says which way it started.
  std::string zygote;

  double effective_wall_time() const { return wall_time > 0 ? wall_time : 3 * cpu_time; }
};

// The one size grammar of the project (policies, manifests, the CLI): "4096", "256M", "1.5G",
// "64 MiB", "512kB" -> bytes; K, M, G, T are powers of 1024, any case. Sizes of 2^63 bytes and
// up are refused. Throws std::invalid_argument naming the text.
uint64_t parse_size(std::string_view text);

// Applies the keys present in `j` on top of `policy`. Throws std::invalid_argument naming the
// key on a bad value or an unknown key.
void apply_json(Policy& policy, const nlohmann::json& j);
nlohmann::json to_json(const Policy& policy);

// Checks what the kernel would otherwise reject late: absolute paths, a program, sane limits.
// Returns an empty string when valid, else the problem.
std::string validate(const Policy& policy);

}  // namespace sandbox
