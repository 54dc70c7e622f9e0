#include "grader/box/limits.h"

#include "sandbox/policy.h"

namespace grader {
namespace {

template <typename T>
std::optional<T> pick(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
}

}  // namespace

double Limits::cpu_seconds() const { return cpu_time.value_or(sandbox::Policy{}.cpu_time); }

double Limits::wall_seconds() const {
  sandbox::Policy p;
  p.cpu_time = cpu_seconds();
  if (wall_time) p.wall_time = *wall_time;
  return p.effective_wall_time();
}

uint64_t Limits::memory_bytes() const { return memory.value_or(sandbox::Policy{}.memory); }

Limits Limits::over(const Limits& d) const {
  Limits l;
  l.cpu_time = pick(cpu_time, d.cpu_time);
  l.wall_time = pick(wall_time, d.wall_time);
  l.memory = pick(memory, d.memory);
  l.output = pick(output, d.output);
  l.file_size = pick(file_size, d.file_size);
  l.pids = pick(pids, d.pids);
  l.open_files = pick(open_files, d.open_files);
  l.disk = pick(disk, d.disk);
  l.inodes = pick(inodes, d.inodes);
  l.network = pick(network, d.network);
  return l;
}

Limits Limits::time_scaled(double factor) const {
  Limits l = *this;
  if (factor == 1.0) return l;
  // grader-sandbox's own defaults, which an unset limit would otherwise get unscaled.
  l.cpu_time = cpu_seconds() * factor;
  l.wall_time = wall_seconds() * factor;
  return l;
}

}  // namespace grader
