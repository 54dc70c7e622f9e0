// Trees copied and removed through directory file descriptors: never a path name that a box
// could have redirected (every step is openat with O_NOFOLLOW relative to a folder already
// open), and no walk bounded by the open-file limit or PATH_MAX.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sandbox {

struct CopyBounds {
  uint64_t max_bytes = 0;  // bytes written in all; a file that does not fit is skipped
  uint64_t max_files = 0;  // files and folders
  int max_depth = 32;      // folders deeper than this are skipped
  // Owner of what is made (-1: the caller's). The box's files belong to the box's uid.
  uid_t owner = static_cast<uid_t>(-1);
  gid_t group = static_cast<gid_t>(-1);
};

struct CopyReport {
  uint64_t files = 0, bytes = 0;
  uint64_t skipped = 0;            // entries left out, all kinds
  std::vector<std::string> notes;  // the first few of them, "path: why"
  std::string error;               // a failure of the copy itself (not a skipped entry)
};

// Copies the regular files and folders under the folder `from` into the existing folder `to`:
// files 0644 (0755 when the source is executable), folders 0755. Links, FIFOs, sockets and
// devices are skipped and noted; so is anything past the bounds. A source file or folder
// whose mode denies us is made readable first (the box's own tree, after its run).
CopyReport copy_tree_at(int from, int to, const CopyBounds& bounds);

// Removes the tree at `path` (a folder, file or link; missing is fine). Never follows a link,
// works at any depth with a handful of file descriptors, and makes folders a box left at mode
// 000 writable first. Returns an empty string, or what could not be removed and why.
std::string remove_tree(const std::string& path);

}  // namespace sandbox
