#include "sandbox/volumes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/tree.h"

namespace sandbox {
namespace {

// Deeper than any assignment's outputs; keeps every copied path well under PATH_MAX.
constexpr int kCollectDepth = 32;

// The host folder a tmpfs is copied to: made here, private to us.
int make_collect_folder(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return -1;
  }
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) error = "cannot open " + path + ": " + std::strerror(errno);
  return fd;
}

VolumeResult measure(const Tmpfs& t, int root) {
  VolumeResult v;
  v.dst = t.dst;
  v.size = t.size;
  v.inodes = t.inodes;
  struct statfs st {};
  if (fstatfs(root, &st) == 0) {
    v.bytes_used = static_cast<uint64_t>(st.f_blocks - st.f_bfree) * st.f_bsize;
    v.inodes_used = static_cast<uint64_t>(st.f_files - st.f_ffree);
    // tmpfs hands out whole pages until none is left; a write that found none failed.
    if (st.f_bfree == 0)
      v.full = "disk";
    else if (st.f_ffree == 0)
      v.full = "inodes";
  }
  return v;
}

}  // namespace

std::vector<VolumeResult> finish_volumes(const Policy& p, std::vector<int>& roots,
                                         std::string& error, bool collect) {
  std::vector<VolumeResult> out;
  for (size_t i = 0; i < p.tmpfs.size(); ++i) {
    const Tmpfs& t = p.tmpfs[i];
    if (i >= roots.size()) {  // the box never got that far
      out.push_back({t.dst, t.size, t.inodes});
      continue;
    }
    VolumeResult v = measure(t, roots[i]);
    if (collect && !t.collect.empty() && error.empty()) {
      int to = make_collect_folder(t.collect, error);
      if (to >= 0) {
        CopyReport r = copy_tree_at(roots[i], to, {t.size, t.inodes, kCollectDepth});
        close(to);
        if (!r.error.empty()) error = "collecting " + t.dst + " into " + t.collect + ": " + r.error;
        v.collected_files = r.files;
        v.collected_bytes = r.bytes;
        v.skipped = r.skipped;
        v.notes = r.notes;
      }
    }
    out.push_back(v);
  }
  for (int fd : roots) close(fd);
  roots.clear();
  return out;
}

Policy tmpfs_as_host_folders(const Policy& p, std::vector<std::string>& temporary,
                             std::string& error) {
  Policy with_folders = p;
  with_folders.tmpfs.clear();
  for (const Tmpfs& t : p.tmpfs) {
    std::string folder = t.collect;
    if (folder.empty()) {
      char name[] = "/tmp/grader-sandbox-tmpfs-XXXXXX";
      if (!mkdtemp(name)) {
        error = std::string("cannot create a folder for ") + t.dst + ": " + std::strerror(errno);
        return p;
      }
      folder = name;
      temporary.push_back(folder);
    }
    int to = make_collect_folder(folder, error);
    if (to < 0) return p;
    // The program runs as the box's uid where we are root: it must be able to write there.
    CopyBounds b{t.size, t.inodes, kCollectDepth};
    if (geteuid() == 0) {
      b.owner = kBoxId;
      b.group = kBoxId;
      (void)!fchown(to, kBoxId, kBoxId);
    }
    if (!t.seed.empty()) {
      int from = open(t.seed.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      CopyReport r = from < 0 ? CopyReport{} : copy_tree_at(from, to, b);
      if (from < 0) r.error = "cannot open " + t.seed + ": " + std::strerror(errno);
      if (from >= 0) close(from);
      if (!r.error.empty()) error = "seed of " + t.dst + ": " + r.error;
    }
    close(to);
    if (!error.empty()) return p;
    with_folders.binds.push_back({folder, t.dst, true});
  }
  return with_folders;
}

}  // namespace sandbox
