// Removal of folder trees a box may have shaped (scratch folders, run folders, staged copies).
// std::filesystem::remove_all recurses with one open folder per level and builds full paths,
// so a tree deeper than the open-file limit or a path longer than PATH_MAX defeats it, and it
// stops at a folder whose mode is 000. This never does either.
#pragma once

#include <filesystem>
#include <string>

namespace grader {

// Removes `path` and everything below it. Never follows a symbolic link (a link is removed,
// not its target) and never leaves the file system `path` is on (a mount point inside the
// tree is an error, left in place). It works by directory file descriptors: one level is open
// at a time, names are relative to it, and it climbs back with openat(fd, "..") only after
// checking that ".." is the folder it came from (device and inode), so neither depth nor
// path length bound it. A folder whose mode keeps us out (000, 0500, ...) is given 0700
// first. A missing `path` is success. Returns "" on success, else "<path>: <reason>" for the
// first entry that could not be removed (the rest is still removed where possible).
[[nodiscard]] std::string remove_tree(const std::filesystem::path& path);

// remove_tree, throwing std::runtime_error with its message on failure.
void remove_tree_or_throw(const std::filesystem::path& path);

}  // namespace grader
