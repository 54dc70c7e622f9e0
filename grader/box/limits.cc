#include "grader/box/limits.h"

namespace grader {
namespace {

template <typename T>
std::optional<T> pick(const std::optional<T>& a, const std::optional<T>& b) {
  return a ? a : b;
}

}  // namespace

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
  const double cpu = cpu_time.value_or(10.0);
  l.cpu_time = cpu * factor;
  l.wall_time = wall_time.value_or(3 * cpu) * factor;
  return l;
}

}  // namespace grader
