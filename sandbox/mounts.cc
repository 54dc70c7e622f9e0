#include "sandbox/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sandbox/tree.h"

namespace sandbox {
namespace {

// The staging area: the first tmpfs becomes "/" after the first pivot and holds the host's
// root at /oldroot and the box's root at /newroot (the bubblewrap layout).
constexpr const char* kStage = "/tmp";
constexpr const char* kNewRoot = "/newroot";
constexpr const char* kOldRoot = "/oldroot";

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void check(int rc, const std::string& what) {
  if (rc != 0) fail(what);
}

// Most paths here have one missing component: try the whole path first, parents only when
// it says they are missing.
void mkdirs(const std::string& path, mode_t mode = 0755) {
  if (mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) fail("mkdir " + path);
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) fail("mkdir " + path);
  mkdirs(path.substr(0, slash), mode);
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail("mkdir " + path);
}

void write_text(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create " + path);
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    fail("write " + path);
  close(fd);
}

// Flags the kernel locks on a mount made in another user namespace must be kept on remount.
unsigned long locked_flags(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  if (st.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  return flags;
}

// Binds host path `src` (seen under /oldroot) at `dst` inside the new root. In a user namespace
// the remount must keep the flags the kernel locked on the source; as root nothing is locked.
void bind(const std::string& src, const std::string& dst, bool writable, bool in_user_namespace,
          bool optional = false) {
  std::string from = std::string(kOldRoot) + src;
  std::string to = std::string(kNewRoot) + dst;
  struct stat st {};
  if (stat(from.c_str(), &st) != 0) {
    if (optional) return;
    fail("bind source " + src);
  }
  if (S_ISDIR(st.st_mode)) {
    mkdirs(to);
  } else {
    mkdirs(to.substr(0, to.rfind('/')));
    int fd = open(to.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR) fail("create mount point " + dst);
    if (fd >= 0) close(fd);
  }
  check(mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr),
        "bind " + src + " at " + dst);
  unsigned long have = in_user_namespace ? locked_flags(to) : 0;
  unsigned long want =
      MS_NOSUID | (src.rfind("/dev/", 0) == 0 ? 0 : MS_NODEV) | (writable ? 0 : MS_RDONLY);
  // A remount costs as much as the bind: skip it when the source already has the flags.
  if ((have & want) == want) return;
  check(mount(nullptr, to.c_str(), nullptr, MS_BIND | MS_REMOUNT | have | want, nullptr),
        "remount " + dst);
}

void tmpfs(const std::string& dst, uint64_t size, mode_t mode, bool devices = false,
           uint64_t inodes = 0) {
  std::string to = std::string(kNewRoot) + dst;
  mkdirs(to);
  char opts[96];
  int n =
      snprintf(opts, sizeof opts, "size=%llu,mode=%o", static_cast<unsigned long long>(size), mode);
  if (inodes)
    snprintf(opts + n, sizeof opts - n, ",nr_inodes=%llu", static_cast<unsigned long long>(inodes));
  check(mount("tmpfs", to.c_str(), "tmpfs", MS_NOSUID | (devices ? 0 : MS_NODEV), opts),
        "tmpfs at " + dst);
}

// One of the policy's tmpfs: mounted, owned by the box's uid, filled from its seed (a host
// folder, seen under /oldroot). Returns its root, open, for the supervisor.
int volume(const Tmpfs& t, bool in_user_namespace) {
  tmpfs(t.dst, t.size, 0755, false, t.inodes);
  const std::string root = std::string(kNewRoot) + t.dst;
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + t.dst);
  // In a user namespace we are the box's uid already; as root, hand the folder over.
  CopyBounds b{t.size, t.inodes};
  if (!in_user_namespace) {
    b.owner = kBoxId;
    b.group = kBoxId;
    if (fchown(fd, kBoxId, kBoxId) != 0) fail("chown " + t.dst);
  }
  if (!t.seed.empty()) {
    int from = open((std::string(kOldRoot) + t.seed).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (from < 0) fail("seed " + t.seed + " of " + t.dst);
    CopyReport r = copy_tree_at(from, fd, b);
    close(from);
    if (!r.error.empty() || r.skipped)
      throw std::runtime_error("seed " + t.seed + " does not fit in " + t.dst + ": " +
                               (r.error.empty() ? r.notes.front() : r.error));
  }
  return fd;
}

// /usr, /lib*, /bin, /sbin: links where the host has merged /usr, read-only binds otherwise.
void system_dirs(bool in_user_namespace) {
  for (const char* dir : {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}) {
    std::string host = std::string(kOldRoot) + dir;
    struct stat st {};
    if (lstat(host.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlink(host.c_str(), target, sizeof target - 1);
      if (n < 0) fail("readlink " + std::string(dir));
      target[n] = 0;
      check(symlink(target, (std::string(kNewRoot) + dir).c_str()), std::string("symlink ") + dir);
    } else if (S_ISDIR(st.st_mode)) {
      bind(dir, dir, false, in_user_namespace);
    }
  }
}

// Copies a small host file into the new root: cheaper than two mount calls for a bind.
void copy_file(const std::string& path) {
  int in = open((std::string(kOldRoot) + path).c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return;  // optional
  int out =
      open((std::string(kNewRoot) + path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // In the kernel, page cache to tmpfs: no buffer of ours to fault in (ld.so.cache is 58 KB).
  ssize_t n = out < 0 ? -1 : 0;
  while (out >= 0 && (n = sendfile(out, in, nullptr, 1 << 20)) > 0) {
  }
  close(in);
  if (out >= 0) close(out);
  if (n < 0) fail("copy " + path);
}

void etc(bool in_user_namespace) {
  mkdirs(std::string(kNewRoot) + "/etc");
  for (const char* f : {"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/nsswitch.conf"}) copy_file(f);
  // Debian's python3 reads /etc/python3*; cc and c++ are links through /etc/alternatives.
  for (const char* d : {"/etc/alternatives", "/etc/python3", "/etc/python3.11"})
    bind(d, d, false, in_user_namespace, /*optional=*/true);
  std::string etc = std::string(kNewRoot) + "/etc/";
  char zone[256];
  ssize_t n = readlink((std::string(kOldRoot) + "/etc/localtime").c_str(), zone, sizeof zone - 1);
  if (n > 0) {
    zone[n] = 0;
    check(symlink(zone, (etc + "localtime").c_str()), "symlink /etc/localtime");
  }
  write_text(etc + "passwd",
             "root:x:0:0:root:/:/usr/sbin/nologin\nbox:x:65534:65534:box:/tmp:/usr/sbin/nologin\n");
  write_text(etc + "group", "root:x:0:\nbox:x:65534:\n");
  write_text(etc + "hosts", "127.0.0.1 localhost box\n::1 localhost\n");
  write_text(etc + "hostname", "box\n");
}

// The five harmless device nodes. As root they are made in place (mknod); in a user namespace,
// which may not make device nodes, the host's are bound. The tmpfs allows device nodes for
// that reason: nobody in the box holds CAP_MKNOD, and the box cannot write to /dev.
void dev(const Policy& p, bool in_user_namespace) {
  tmpfs("/dev", 1 << 20, 0755, /*devices=*/true);
  struct Node {
    const char* path;
    unsigned minor;
  };
  constexpr Node kNodes[] = {{"/dev/null", 3},
                             {"/dev/zero", 5},
                             {"/dev/full", 7},
                             {"/dev/random", 8},
                             {"/dev/urandom", 9}};
  bool made = false;
  if (!in_user_namespace) {
    mode_t old_mask = umask(0);
    made = true;
    for (const Node& n : kNodes) {
      std::string to = std::string(kNewRoot) + n.path;
      if (mknod(to.c_str(), S_IFCHR | 0666, makedev(1, n.minor)) != 0) {
        if (errno != EPERM) fail(std::string("mknod ") + n.path);
        made = false;  // e.g. a container without CAP_MKNOD: bind below
        break;
      }
    }
    umask(old_mask);
  }
  if (!made) {
    for (const Node& n : kNodes) {
      // A host whose /dev/null was replaced by a plain file would hand the box a shared file.
      struct stat st {};
      if (stat((std::string(kOldRoot) + n.path).c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) {
        errno = ENODEV;
        fail(std::string("host ") + n.path + " is not a character device");
      }
      unlink((std::string(kNewRoot) + n.path).c_str());  // a node made before EPERM
      bind(n.path, n.path, true, in_user_namespace);
    }
  }
  std::string d = std::string(kNewRoot) + "/dev/";
  check(symlink("/proc/self/fd", (d + "fd").c_str()), "symlink /dev/fd");
  check(symlink("/proc/self/fd/0", (d + "stdin").c_str()), "symlink /dev/stdin");
  check(symlink("/proc/self/fd/1", (d + "stdout").c_str()), "symlink /dev/stdout");
  check(symlink("/proc/self/fd/2", (d + "stderr").c_str()), "symlink /dev/stderr");
  // Read-only from here on (writing to a device node is not writing to the file system); in a
  // user namespace the box's uid would otherwise own it.
  mkdirs(d + "shm");
  check(mount(nullptr, (std::string(kNewRoot) + "/dev").c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, nullptr),
        "remount /dev read-only");
  tmpfs("/dev/shm", p.shm_size, 01777);
}

int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(syscall(SYS_pivot_root, new_root, put_old));
}

}  // namespace

std::vector<int> build_root(const Policy& p, bool in_user_namespace) {
  // Nothing we mount may propagate back to the host.
  check(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make / private");
  check(mount("tmpfs", kStage, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755"),
        "staging tmpfs");
  check(mkdir((std::string(kStage) + kNewRoot).c_str(), 0755), "mkdir newroot");
  check(mkdir((std::string(kStage) + kOldRoot).c_str(), 0755), "mkdir oldroot");
  check(pivot_root(kStage, (std::string(kStage) + kOldRoot).c_str()), "first pivot_root");
  check(chdir("/"), "chdir /");
  // The new root must be a mount point of its own for the second pivot.
  check(mount(kNewRoot, kNewRoot, nullptr, MS_BIND, nullptr), "bind newroot");

  system_dirs(in_user_namespace);
  etc(in_user_namespace);
  dev(p, in_user_namespace);
  mkdirs(std::string(kNewRoot) + "/proc");
  check(mount("proc", (std::string(kNewRoot) + "/proc").c_str(), "proc",
              MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
        "mount /proc");
  tmpfs("/tmp", p.tmp_size, 01777);

  // Parents before children, so that a bind inside another bind lands on top of it.
  std::vector<Bind> binds = p.binds;
  std::stable_sort(binds.begin(), binds.end(),
                   [](const Bind& a, const Bind& b) { return a.dst.size() < b.dst.size(); });
  for (const auto& b : binds) bind(b.src, b.dst, b.writable, in_user_namespace);
  std::vector<int> volumes;
  for (const auto& t : p.tmpfs) volumes.push_back(volume(t, in_user_namespace));

  // Second pivot: the box's root becomes "/". Detaching the staging root below it takes the
  // host's root (mounted inside it, already private) along in the same unmount.
  int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (old < 0) fail("open /");
  check(chdir(kNewRoot), "chdir newroot");
  check(pivot_root(".", "."), "second pivot_root");
  check(fchdir(old), "fchdir");
  close(old);
  check(umount2(".", MNT_DETACH), "unmount staging root");
  check(chdir("/"), "chdir /");
  check(mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr),
        "remount / read-only");
  return volumes;
}

}  // namespace sandbox
