#include "sandbox/policy.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

namespace sandbox {

uint64_t parse_size(std::string_view text) {
  auto fail = [&] { throw std::invalid_argument("bad size '" + std::string(text) + "'"); };
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  size_t i = 0, end = text.size();
  while (i < end && space(text[i])) ++i;
  while (end > i && space(text[end - 1])) --end;
  // The number: digits, then optionally '.' and digits.
  const size_t number_start = i;
  while (i < end && digit(text[i])) ++i;
  if (i == number_start) fail();
  if (i < end && text[i] == '.') {
    if (++i == end || !digit(text[i])) fail();
    while (i < end && digit(text[i])) ++i;
  }
  const std::string number(text.substr(number_start, i - number_start));
  while (i < end && space(text[i])) ++i;
  // The unit: K, M, G or T (any case), then optionally 'i', then optionally 'B'.
  int shift = 0;
  if (i < end) {
    switch (std::toupper(static_cast<unsigned char>(text[i]))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift) ++i;
  }
  if (shift && i < end && (text[i] == 'i' || text[i] == 'I')) ++i;
  if (i < end && (text[i] == 'b' || text[i] == 'B')) ++i;
  if (i != end) fail();
  // Sizes from 2^63 bytes (8 EiB) up are refused, not wrapped; digits beyond a double's
  // range (hundreds of them) are refused the same way.
  const double bytes = std::ldexp(std::strtod(number.c_str(), nullptr), shift);
  if (!(bytes < 0x1p63)) fail();
  if (number.find('.') == std::string::npos && number.size() <= 18)  // exact, not rounded
    return std::stoull(number) << shift;
  return static_cast<uint64_t>(std::llround(bytes));
}

namespace {

uint64_t size_value(const nlohmann::json& v, const std::string& key) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_string()) {
    try {
      return parse_size(v.get<std::string>());
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("policy key '" + key + "': " + e.what());
    }
  }
  throw std::invalid_argument("policy key '" + key + "': expected a size (bytes or \"256M\")");
}

double seconds_value(const nlohmann::json& v, const std::string& key) {
  if (!v.is_number() || v.get<double>() < 0 || !std::isfinite(v.get<double>()))
    throw std::invalid_argument("policy key '" + key + "': expected seconds >= 0");
  return v.get<double>();
}

bool bool_value(const nlohmann::json& v, const std::string& key) {
  if (!v.is_boolean())
    throw std::invalid_argument("policy key '" + key + "': expected true or false");
  return v.get<bool>();
}

std::string string_value(const nlohmann::json& v, const std::string& key) {
  if (!v.is_string()) throw std::invalid_argument("policy key '" + key + "': expected a string");
  return v.get<std::string>();
}

Network network_value(const nlohmann::json& v, const std::string& key) {
  std::string n = string_value(v, key);
  if (n == "none") return Network::None;
  if (n == "loopback") return Network::Loopback;
  throw std::invalid_argument("policy key 'network': expected \"none\" or \"loopback\"");
}

// "binds": [{"src", "dst"?, "writable"?}], appended.
void add_binds(Policy& p, const nlohmann::json& v) {
  if (!v.is_array()) throw std::invalid_argument("policy key 'binds': expected an array");
  for (const auto& b : v) {
    if (!b.is_object() || !b.contains("src"))
      throw std::invalid_argument("policy key 'binds': each entry needs \"src\"");
    Bind bind{string_value(b["src"], "binds.src"), "", false};
    bind.dst = bind.src;
    for (const auto& [k, value] : b.items()) {
      if (k == "src") continue;
      if (k == "dst") {
        bind.dst = string_value(value, "binds.dst");
      } else if (k == "writable") {
        // Not b.value(): a number there threw json's type_error (found by fuzz/policy.cc).
        bind.writable = bool_value(value, "binds.writable");
      } else {
        throw std::invalid_argument("policy key 'binds': unknown key '" + k + "'");
      }
    }
    p.binds.push_back(bind);
  }
}

// "tmpfs": [{"dst", "size"?, "inodes"?, "seed"?, "collect"?}], appended.
void add_tmpfs(Policy& p, const nlohmann::json& v) {
  if (!v.is_array()) throw std::invalid_argument("policy key 'tmpfs': expected an array");
  for (const auto& t : v) {
    if (!t.is_object() || !t.contains("dst"))
      throw std::invalid_argument("policy key 'tmpfs': each entry needs \"dst\"");
    Tmpfs fs{string_value(t["dst"], "tmpfs.dst")};
    for (const auto& [k, value] : t.items()) {
      if (k == "dst") continue;
      if (k == "size")
        fs.size = size_value(value, "tmpfs.size");
      else if (k == "inodes")
        fs.inodes = size_value(value, "tmpfs.inodes");
      else if (k == "seed")
        fs.seed = string_value(value, "tmpfs.seed");
      else if (k == "collect")
        fs.collect = string_value(value, "tmpfs.collect");
      else
        throw std::invalid_argument("policy key 'tmpfs': unknown key '" + k + "'");
    }
    p.tmpfs.push_back(fs);
  }
}

}  // namespace

void apply_json(Policy& p, const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("policy: expected a JSON object");
  for (const auto& [key, v] : j.items()) {
    if (key == "argv") {
      // [] is what to_json writes for a policy without a program; validate() refuses it.
      if (!v.is_array()) throw std::invalid_argument("policy key 'argv': expected an array");
      p.argv.clear();
      for (const auto& a : v) p.argv.push_back(string_value(a, key));
    } else if (key == "cpu_time") {
      p.cpu_time = seconds_value(v, key);
    } else if (key == "wall_time") {
      p.wall_time = seconds_value(v, key);
    } else if (key == "memory") {
      p.memory = size_value(v, key);
    } else if (key == "pids") {
      p.pids = size_value(v, key);
    } else if (key == "output") {
      p.output = size_value(v, key);
    } else if (key == "file_size") {
      p.file_size = size_value(v, key);
    } else if (key == "open_files") {
      p.open_files = size_value(v, key);
    } else if (key == "tmp_size") {
      p.tmp_size = size_value(v, key);
    } else if (key == "shm_size") {
      p.shm_size = size_value(v, key);
    } else if (key == "network") {
      p.network = network_value(v, key);
    } else if (key == "binds") {
      add_binds(p, v);
    } else if (key == "tmpfs") {
      add_tmpfs(p, v);
    } else if (key == "cwd") {
      p.cwd = string_value(v, key);
    } else if (key == "env") {
      if (!v.is_object()) throw std::invalid_argument("policy key 'env': expected an object");
      for (const auto& [name, value] : v.items())
        p.env.emplace_back(name, string_value(value, "env." + name));
    } else if (key == "zygote") {
      p.zygote = string_value(v, key);
    } else if (key == "channel") {
      p.channel_path = string_value(v, key);
    } else if (key == "channel_size") {
      p.channel_size = size_value(v, key);
    } else if (key == "stdin") {
      p.stdin_path = string_value(v, key);
    } else if (key == "stdout") {
      p.stdout_path = string_value(v, key);
    } else if (key == "stderr") {
      p.stderr_path = string_value(v, key);
    } else if (key == "strict") {
      p.strict = bool_value(v, key);
    } else {
      throw std::invalid_argument("policy: unknown key '" + key + "'");
    }
  }
}

nlohmann::json to_json(const Policy& p) {
  nlohmann::json binds = nlohmann::json::array();
  for (const auto& b : p.binds)
    binds.push_back({{"src", b.src}, {"dst", b.dst}, {"writable", b.writable}});
  nlohmann::json tmpfs = nlohmann::json::array();
  for (const auto& t : p.tmpfs) {
    nlohmann::json entry = {{"dst", t.dst}, {"size", t.size}, {"inodes", t.inodes}};
    if (!t.seed.empty()) entry["seed"] = t.seed;
    if (!t.collect.empty()) entry["collect"] = t.collect;
    tmpfs.push_back(entry);
  }
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : p.env) env[k] = v;
  return {{"argv", p.argv},
          {"cpu_time", p.cpu_time},
          {"wall_time", p.effective_wall_time()},
          {"memory", p.memory},
          {"pids", p.pids},
          {"output", p.output},
          {"file_size", p.file_size},
          {"open_files", p.open_files},
          {"network", p.network == Network::Loopback ? "loopback" : "none"},
          {"binds", binds},
          {"tmpfs", tmpfs},
          {"cwd", p.cwd},
          {"env", env},
          {"channel", p.channel_path},
          {"channel_size", p.channel_size},
          {"stdin", p.stdin_path},
          {"stdout", p.stdout_path},
          {"stderr", p.stderr_path},
          {"tmp_size", p.tmp_size},
          {"shm_size", p.shm_size},
          {"strict", p.strict},
          {"zygote", p.zygote}};
}

std::string validate(const Policy& p) {
  if (p.argv.empty()) return "no program to run";
  if (p.cpu_time <= 0) return "cpu_time must be > 0";
  if (p.memory < (4ull << 20)) return "memory must be at least 4M";
  if (p.pids < 1) return "pids must be at least 1";
  if (p.open_files < 4) return "open_files must be at least 4";
  if (p.cwd.empty() || p.cwd[0] != '/') return "cwd must be an absolute path inside the box";
  static const std::set<std::string> reserved = {"/",    "/proc",  "/dev", "/usr", "/etc",
                                                 "/lib", "/lib64", "/bin", "/sbin"};
  for (const auto& b : p.binds) {
    if (b.src.empty() || b.src[0] != '/')
      return "bind source '" + b.src + "' must be an absolute path";
    if (b.dst.empty() || b.dst[0] != '/')
      return "bind destination '" + b.dst + "' must be an absolute path";
    if (b.dst.find("/..") != std::string::npos)
      return "bind destination '" + b.dst + "' must not contain '..'";
    if (reserved.count(b.dst)) return "bind destination '" + b.dst + "' is reserved";
  }
  for (const auto& t : p.tmpfs) {
    if (t.dst.empty() || t.dst[0] != '/' || t.dst.find("/..") != std::string::npos)
      return "tmpfs destination '" + t.dst + "' must be an absolute path without '..'";
    if (reserved.count(t.dst)) return "tmpfs destination '" + t.dst + "' is reserved";
    if (t.size < 4096 || t.inodes < 1) return "tmpfs '" + t.dst + "' needs size >= 4K, inodes >= 1";
    for (const std::string* host : {&t.seed, &t.collect})
      if (!host->empty() && (*host)[0] != '/')
        return "tmpfs '" + t.dst + "': host folder '" + *host + "' must be an absolute path";
  }
  if (p.tmpfs.size() > kMaxTmpfs) return "at most " + std::to_string(kMaxTmpfs) + " tmpfs";
  for (const auto& [k, v] : p.env)
    if (k.empty() || k.find('=') != std::string::npos)
      return "bad environment variable name '" + k + "'";
  return "";
}

}  // namespace sandbox
