#include "sandbox/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace sandbox {
namespace {

constexpr size_t kMaxNotes = 20;

void note(CopyReport& r, const std::string& path, const std::string& why) {
  ++r.skipped;
  if (r.notes.size() < kMaxNotes) r.notes.push_back(path + ": " + why);
}

// The names in folder `dir` (not . and ..), read through a duplicate of its descriptor.
template <typename Visit>
bool for_each_entry(int dir, Visit visit) {
  int copy = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  DIR* d = fdopendir(copy);
  if (!d) {
    close(copy);
    return false;
  }
  rewinddir(d);
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (!visit(std::string(e->d_name))) break;
  }
  closedir(d);
  return true;
}

// openat that, as a last resort, gives the entry a mode we may open it with: a box may leave
// its own files at mode 000. The box has ended when this runs, so nothing races the chmod.
int open_entry(int dir, const std::string& name, int flags, mode_t fix) {
  int fd = openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES && fchmodat(dir, name.c_str(), fix, 0) == 0)
    fd = openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

void own(int fd, const CopyBounds& b) {
  if (b.owner != static_cast<uid_t>(-1)) (void)!fchown(fd, b.owner, b.group);
}

bool copy_file(int from, int to, const std::string& name, const std::string& path,
               const struct stat& st, const CopyBounds& b, CopyReport& r) {
  const auto size = static_cast<uint64_t>(st.st_size);
  if (r.files >= b.max_files) return note(r, path, "too many files, not copied"), true;
  if (size > b.max_bytes - r.bytes) return note(r, path, "over the size budget, not copied"), true;
  int in = open_entry(from, name, O_RDONLY | O_NONBLOCK, 0600);
  struct stat now {};
  if (in < 0 || fstat(in, &now) != 0 || !S_ISREG(now.st_mode) ||
      static_cast<uint64_t>(now.st_size) != size) {
    if (in >= 0) close(in);
    return note(r, path, "changed or unreadable, not copied"), true;
  }
  const mode_t mode = (st.st_mode & S_IXUSR) ? 0755 : 0644;
  int out = openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (out < 0) {
    r.error = "create " + path + ": " + std::strerror(errno);
    close(in);
    return false;
  }
  uint64_t left = size;
  while (left > 0) {
    ssize_t n = sendfile(out, in, nullptr, left < (1u << 30) ? left : (1u << 30));
    if (n <= 0) break;
    left -= static_cast<uint64_t>(n);
  }
  const int err = errno;
  (void)!fchmod(out, mode);
  own(out, b);
  close(in);
  close(out);
  if (left > 0) {
    r.error = "copy " + path + ": " + (left == size ? std::strerror(err) : "short copy");
    return false;
  }
  ++r.files;
  r.bytes += size;
  return true;
}

bool copy_dir(int from, int to, const std::string& prefix, int depth, const CopyBounds& b,
              CopyReport& r) {
  bool ok = true;
  bool listed = for_each_entry(from, [&](const std::string& name) {
    const std::string path = prefix + name;
    struct stat st {};
    if (fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return true;
    if (S_ISREG(st.st_mode)) return ok = copy_file(from, to, name, path, st, b, r);
    if (!S_ISDIR(st.st_mode)) {
      note(r, path, S_ISLNK(st.st_mode) ? "symbolic link, not copied" : "not a regular file");
      return true;
    }
    if (depth >= b.max_depth) return note(r, path + "/", "too deep, not copied"), true;
    if (r.files >= b.max_files) return note(r, path + "/", "too many files, not copied"), true;
    int sub = open_entry(from, name, O_RDONLY | O_DIRECTORY, 0700);
    if (sub < 0) return note(r, path + "/", "unreadable folder"), true;
    if (mkdirat(to, name.c_str(), 0755) != 0 && errno != EEXIST) {
      r.error = "mkdir " + path + ": " + std::strerror(errno);
      close(sub);
      return ok = false;
    }
    int made = openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (made < 0) {
      r.error = "open " + path + ": " + std::strerror(errno);
      close(sub);
      return ok = false;
    }
    own(made, b);
    ++r.files;
    ok = copy_dir(sub, made, path + "/", depth + 1, b, r);
    close(sub);
    close(made);
    return ok;
  });
  if (!listed && r.error.empty()) r.error = "cannot list " + (prefix.empty() ? "." : prefix);
  return ok && listed;
}

// One folder on the way down of remove_tree: its name in its parent and its identity.
struct Level {
  std::string name;
  dev_t dev;
  ino_t ino;
};

// What remove_tree has met: the first error, and the entries that would not go (never
// retried, so that the walk ends).
struct Removal {
  std::string path;
  std::string first_error;
  std::set<std::pair<dev_t, ino_t>> stuck;
  void remember(const std::string& what) {
    if (first_error.empty()) first_error = path + ": " + what + ": " + std::strerror(errno);
  }
  bool is_stuck(const struct stat& st) const { return stuck.count({st.st_dev, st.st_ino}) > 0; }
  void give_up_on(dev_t dev, ino_t ino) { stuck.insert({dev, ino}); }
};

// Unlinks what in `dir` is not a folder, up to its first subfolder not given up on, which it
// returns (its name empty when there is none). (A folder with k subfolders is scanned k
// times: fine for the trees a grading leaves.)
std::pair<std::string, struct stat> clear_until_subfolder(int dir, Removal& removal) {
  std::pair<std::string, struct stat> sub{};
  for_each_entry(dir, [&](const std::string& entry) {
    struct stat e {};
    if (fstatat(dir, entry.c_str(), &e, AT_SYMLINK_NOFOLLOW) != 0) return true;
    if (removal.is_stuck(e)) return true;
    if (!S_ISDIR(e.st_mode)) {
      if (unlinkat(dir, entry.c_str(), 0) != 0 &&
          !(errno == EACCES && fchmod(dir, 0700) == 0 && unlinkat(dir, entry.c_str(), 0) == 0)) {
        removal.remember("unlink " + entry);
        removal.give_up_on(e.st_dev, e.st_ino);
      }
      return true;
    }
    sub = {entry, e};
    return false;
  });
  return sub;
}

// rmdir of `name` in `parent`, making `parent` writable first where that is what it takes.
void remove_folder(int parent, const Level& done, Removal& removal) {
  if (unlinkat(parent, done.name.c_str(), AT_REMOVEDIR) != 0 &&
      !(errno == EACCES && fchmod(parent, 0700) == 0 &&
        unlinkat(parent, done.name.c_str(), AT_REMOVEDIR) == 0)) {
    removal.remember("rmdir " + done.name);
    removal.give_up_on(done.dev, done.ino);
  }
}

// The parent of `dir` through "..", checked to be `above`, the folder we came down through
// (nothing else can have moved it: no box runs); -1 otherwise.
int open_checked_parent(int dir, const Level& above) {
  int up = openat(dir, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat up_st {};
  if (up >= 0 && fstat(up, &up_st) == 0 && up_st.st_dev == above.dev && up_st.st_ino == above.ino)
    return up;
  if (up >= 0) close(up);
  errno = ESTALE;
  return -1;
}

}  // namespace

CopyReport copy_tree_at(int from, int to, const CopyBounds& bounds) {
  CopyReport r;
  copy_dir(from, to, "", 0, bounds, r);
  return r;
}

std::string remove_tree(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string parent_path =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  int top = open(parent_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0) return errno == ENOENT ? "" : parent_path + ": " + std::strerror(errno);
  struct stat st {};
  if (fstatat(top, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    close(top);
    return errno == ENOENT ? "" : path + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    std::string err = unlinkat(top, name.c_str(), 0) == 0 ? "" : path + ": " + std::strerror(errno);
    close(top);
    return err;
  }
  std::vector<Level> down{{name, st.st_dev, st.st_ino}};
  Removal removal{path, "", {}};
  int cur = open_entry(top, name, O_RDONLY | O_DIRECTORY, 0700);
  if (cur < 0) {
    removal.remember("open");
    close(top);
    return removal.first_error;
  }
  int parent = top;  // the folder that holds `cur`, open while we work in `cur`
  while (cur >= 0) {
    // Empty `cur` of files; stop at the first subfolder and go down into it.
    auto [sub, sub_st] = clear_until_subfolder(cur, removal);
    if (!sub.empty()) {
      int next = open_entry(cur, sub, O_RDONLY | O_DIRECTORY, 0700);
      if (next < 0) {
        removal.remember("open " + sub);
        removal.give_up_on(sub_st.st_dev, sub_st.st_ino);
        continue;
      }
      if (parent != top) close(parent);
      parent = cur;
      cur = next;
      down.push_back({sub, sub_st.st_dev, sub_st.st_ino});
      continue;
    }
    // `cur` is as empty as it gets: remove it from its parent and go back up.
    const Level done = down.back();
    down.pop_back();
    close(cur);
    cur = -1;
    remove_folder(parent, done, removal);
    if (down.empty()) break;
    // The parent becomes the current folder, and its own parent is opened.
    cur = parent;
    if (down.size() == 1) {
      parent = top;
      continue;
    }
    parent = open_checked_parent(cur, down[down.size() - 2]);
    if (parent < 0) {
      removal.remember("folder moved while it was removed");
      close(cur);
      cur = -1;
      break;
    }
  }
  if (parent != top && parent >= 0) close(parent);
  if (cur >= 0) close(cur);
  close(top);
  return removal.first_error;
}

}  // namespace sandbox
