// See remove_tree.h. The walk keeps one folder open (plus the parent of the root), and a stack
// of levels in memory: each level's name, device and inode, the subfolders it listed but has
// not entered yet (at most kBatch), and the entries that failed (so a rescan skips them).
#include "grader/box/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/fd.h"

namespace fs = std::filesystem;

namespace grader {
namespace {

constexpr size_t kBatch = 1024;  // names handled per listing of one folder

using common::Fd;

struct Level {
  std::string name;  // in the folder above
  dev_t dev;
  ino_t ino;
  std::vector<std::string> pending;  // subfolders listed, not entered yet
  std::set<std::string> failed;      // entries left behind: skipped when listing again
};

// Gives the folder `name` in dirfd mode 0700 without following a link: through an O_PATH
// descriptor and its /proc/self/fd name (fchmod refuses O_PATH descriptors), or, where /proc
// is missing, by name once the O_PATH descriptor showed a folder there.
bool open_up_entry(int dirfd, const std::string& name) {
  Fd path(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (!path.ok() || ::fstat(path.get(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  std::string proc = fmt::format("/proc/self/fd/{}", path.get());
  if (::chmod(proc.c_str(), 0700) == 0) return true;
  return (errno == ENOENT || errno == ENOTDIR) && ::fchmodat(dirfd, name.c_str(), 0700, 0) == 0;
}

bool permission_error(int e) { return e == EACCES || e == EPERM; }

class Remover {
 public:
  Remover(int top, fs::path root) : top_(top), root_(std::move(root)) {}

  std::string run(const std::string& name) {
    Fd cur = open_folder(top_, name);
    struct stat st {};
    if (!cur.ok() || ::fstat(cur.get(), &st) != 0) {
      note_errno("");
      return first_error_;
    }
    root_dev_ = st.st_dev;
    levels_.push_back({name, st.st_dev, st.st_ino, {}, {}});
    while (!levels_.empty()) {
      Level& level = levels_.back();
      if (!level.pending.empty()) {
        std::string child = std::move(level.pending.back());
        level.pending.pop_back();
        enter(cur, child);
      } else if (!list_once(cur.get())) {
        if (!leave(cur)) break;
      }
    }
    return first_error_;
  }

 private:
  // Opens the folder `name` in dirfd, never through a link; a mode that keeps us out is
  // opened up first.
  static Fd open_folder(int dirfd, const std::string& name) {
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    Fd fd(::openat(dirfd, name.c_str(), flags));
    if (!fd.ok() && errno == EACCES && open_up_entry(dirfd, name))
      fd = Fd(::openat(dirfd, name.c_str(), flags));
    return fd;
  }

  // A listing of dirfd on a fresh open file description (the stream owns the descriptor).
  static DIR* open_listing(int dirfd) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int saved = errno;
      ::close(fd);
      errno = saved;
    }
    return dir;
  }

  // Removes a non-folder; returns false (errno set) when it could not.
  static bool unlink_entry(int dirfd, const std::string& name) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) return true;
    if (!permission_error(errno)) return false;
    ::fchmod(dirfd, 0700);  // a folder without write permission for us
    return ::unlinkat(dirfd, name.c_str(), 0) == 0;
  }

  // One pass over the current folder: removes what is not a folder, queues up to kBatch
  // subfolders. Returns false when the folder held nothing but entries that failed.
  bool list_once(int dirfd) {
    Level& level = levels_.back();
    DIR* dir = open_listing(dirfd);
    if (dir == nullptr && permission_error(errno) && ::fchmod(dirfd, 0700) == 0)
      dir = open_listing(dirfd);
    if (dir == nullptr) {
      note_errno("");
      return false;
    }
    bool found = false;
    size_t handled = 0;
    while (handled < kBatch) {
      errno = 0;
      dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) note_errno("");
        break;
      }
      std::string name = entry->d_name;
      if (name == "." || name == ".." || level.failed.count(name)) continue;
      found = true;
      ++handled;
      if (entry->d_type == DT_DIR) {
        level.pending.push_back(std::move(name));
      } else if (!unlink_entry(dirfd, name)) {
        if (errno == EISDIR) {
          level.pending.push_back(std::move(name));
        } else {
          note_errno(name);
          level.failed.insert(std::move(name));
        }
      }
    }
    ::closedir(dir);
    return found;
  }

  // Steps into the subfolder `name` of the current folder (or removes it, if it turned out
  // not to be a folder).
  void enter(Fd& cur, const std::string& name) {
    Level& level = levels_.back();
    Fd child = open_folder(cur.get(), name);
    if (!child.ok()) {
      if ((errno == ENOTDIR || errno == ELOOP) && unlink_entry(cur.get(), name)) return;
      if (errno == ENOENT) return;
      note_errno(name);
      level.failed.insert(name);
      return;
    }
    struct stat st {};
    if (::fstat(child.get(), &st) != 0) {
      note_errno(name);
      level.failed.insert(name);
      return;
    }
    if (st.st_dev != root_dev_) {
      note(where(name), "a mount point inside the tree; left in place");
      level.failed.insert(name);
      return;
    }
    levels_.push_back({name, st.st_dev, st.st_ino, {}, {}});
    cur = std::move(child);
  }

  // The current folder is empty (but for failed entries): climb to its parent, checked to be
  // the folder we came from, and remove it. Returns false when the walk must stop.
  bool leave(Fd& cur) {
    Level done = std::move(levels_.back());
    levels_.pop_back();
    if (levels_.empty()) {
      // The root: its parent is top_, the operator's folder (its mode is not ours to change).
      struct stat st {};
      if (::fstatat(top_, done.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          st.st_dev != done.dev || st.st_ino != done.ino) {
        note(where(""), "was moved or replaced while being removed");
      } else if (done.failed.empty() && ::unlinkat(top_, done.name.c_str(), AT_REMOVEDIR) != 0) {
        note_errno("");
      }
      return false;
    }
    Fd up(::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    const Level& parent = levels_.back();
    if (!up.ok() || ::fstat(up.get(), &st) != 0 || st.st_dev != parent.dev ||
        st.st_ino != parent.ino) {
      note(where(done.name),
           "its parent folder was moved or replaced while being removed; stopped");
      return false;
    }
    cur = std::move(up);
    Level& level = levels_.back();
    if (!done.failed.empty()) {
      level.failed.insert(done.name);  // its failure is already noted
      return true;
    }
    if (::unlinkat(cur.get(), done.name.c_str(), AT_REMOVEDIR) != 0 &&
        !(permission_error(errno) && ::fchmod(cur.get(), 0700) == 0 &&
          ::unlinkat(cur.get(), done.name.c_str(), AT_REMOVEDIR) == 0)) {
      note_errno(done.name);
      level.failed.insert(done.name);
    }
    return true;
  }

  // The path of `leaf` in the current folder, shortened in the middle when long: a deep tree
  // makes paths far longer than anyone reads.
  std::string where(const std::string& leaf) const {
    std::vector<const std::string*> parts;
    for (size_t i = 1; i < levels_.size(); ++i) parts.push_back(&levels_[i].name);
    if (!leaf.empty()) parts.push_back(&leaf);
    std::string out = root_.string();
    constexpr size_t kEdge = 3;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (parts.size() > 2 * kEdge && i == kEdge) {
        out += fmt::format("/...({} more folders)...", parts.size() - 2 * kEdge);
        i = parts.size() - kEdge - 1;
        continue;
      }
      out += "/" + *parts[i];
    }
    return out;
  }

  // Notes errno for `leaf` in the current folder (read before anything can change it).
  void note_errno(const std::string& leaf) {
    int error = errno;
    note(where(leaf), std::string(std::strerror(error)));
  }
  void note(const std::string& path, const std::string& reason) {
    if (first_error_.empty()) first_error_ = path + ": " + reason;
  }

  int top_;
  fs::path root_;
  dev_t root_dev_ = 0;
  std::vector<Level> levels_;
  std::string first_error_;
};

}  // namespace

std::string remove_tree(const fs::path& path) {
  fs::path p = path.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == ".." || p == p.root_path())
    return path.string() + ": refusing to remove this path";
  fs::path parent = p.has_parent_path() ? p.parent_path() : fs::path(".");
  // The parent is the operator's path (it may pass through links); below it nothing is
  // followed.
  Fd top(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top.ok())
    return errno == ENOENT ? "" : fmt::format("{}: {}", p.string(), std::strerror(errno));
  struct stat st {};
  if (::fstatat(top.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? "" : fmt::format("{}: {}", p.string(), std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(top.get(), name.c_str(), 0) == 0 || errno == ENOENT) return "";
    return fmt::format("{}: {}", p.string(), std::strerror(errno));
  }
  return Remover(top.get(), p).run(name);
}

void remove_tree_or_throw(const fs::path& path) {
  if (std::string error = remove_tree(path); !error.empty())
    throw std::runtime_error("cannot remove " + error);
}

}  // namespace grader
