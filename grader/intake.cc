// Intake of hostile submissions and box outputs. Every file under a source is opened relative
// to an already opened directory with O_NOFOLLOW, so no path a student controls is ever
// followed; every write lands in a directory this process created.
#include "grader/intake.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace fs = std::filesystem;

namespace grader {
namespace {

constexpr uint64_t kRatioFloor = 1 << 20;  // archives expanding to less are never bombs
constexpr uint64_t kMaxRatio = 100;        // expanded bytes per archive byte
constexpr int kMaxDepth = 32;
constexpr size_t kMaxComponentBytes = 255;
constexpr size_t kMaxPathBytes = 1024;
constexpr size_t kBufferBytes = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// C1 control characters (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8.
bool is_c1_control_at(std::string_view s, size_t i) {
  return i + 1 < s.size() && static_cast<unsigned char>(s[i]) == 0xC2 &&
         static_cast<unsigned char>(s[i + 1]) < 0xA0;
}

// A name as it may appear in a message: bytes a terminal would act on are escaped.
std::string printable(std::string_view name) {
  bool utf8 = is_valid_utf8(name);
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    bool c1 = utf8 && (is_c1_control_at(name, i) || (i > 0 && is_c1_control_at(name, i - 1)));
    if (c < 0x20 || c == 0x7F || (!utf8 && c >= 0x80) || c1)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

std::string type_name(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symbolic link";
    case S_IFIFO:
      return "FIFO";
    case S_IFSOCK:
      return "socket";
    case S_IFCHR:
      return "character device";
    case S_IFBLK:
      return "block device";
    default:
      return "file of unknown type";
  }
}

// Checks a relative name from a submission and returns it normalized ("./a//b" -> "a/b"), or
// an empty string with *problem set. An empty result without a problem is the root itself.
std::string normalize_name(std::string_view raw, std::string* problem) {
  problem->clear();
  if (!is_valid_utf8(raw)) {
    *problem = "name is not valid UTF-8";
    return {};
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = raw[i];
    if (c < 0x20 || c == 0x7F || is_c1_control_at(raw, i)) {
      *problem = "name contains a control character";
      return {};
    }
  }
  if (raw.find('\\') != std::string_view::npos) {
    *problem = "name contains a backslash";
    return {};
  }
  if (!raw.empty() && raw.front() == '/') {
    *problem = "absolute path";
    return {};
  }
  std::string out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = std::min(raw.find('/', start), raw.size());
    std::string_view part = raw.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      *problem = "path leaves the submission folder ('..')";
      return {};
    }
    if (part.size() > kMaxComponentBytes) {
      *problem = "name is too long";
      return {};
    }
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.size() > kMaxPathBytes) {
    *problem = "path is too long";
    return {};
  }
  return out;
}

// Entries macOS adds to archives and folders: dropped silently, never staged.
bool is_os_clutter(const std::string& rel) {
  std::string_view first = std::string_view(rel).substr(0, rel.find('/'));
  std::string_view last = std::string_view(rel).substr(rel.rfind('/') + 1);
  return first == "__MACOSX" || last == ".DS_Store";
}

std::vector<std::string> list_dir(int dirfd, const std::string& rel) {
  // A fresh open file description, so that listing never depends on dirfd's offset.
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) ::close(fd);
    throw IntakeError(fmt::format("'{}': cannot list directory: {}", printable(rel), errno_text()));
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

struct stat stat_entry(int dirfd, const std::string& name, const std::string& rel) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    throw IntakeError(fmt::format("'{}': cannot stat: {}", printable(rel), errno_text()));
  return st;
}

Fd open_subdir(int dirfd, const std::string& name, const std::string& rel) {
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok())
    throw IntakeError(fmt::format("'{}': cannot open: {}", printable(rel), errno_text()));
  return fd;
}

// Opens a file found by fstatat as regular. O_NONBLOCK: if it was swapped for a FIFO since,
// the open returns at once and the fstat below notices.
Fd open_regular(int dirfd, const std::string& name, const std::string& rel) {
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat st {};
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0)
    throw IntakeError(fmt::format("'{}': cannot open: {}", printable(rel), errno_text()));
  if (!S_ISREG(st.st_mode))
    throw IntakeError(fmt::format("'{}': changed into a {} while being read", printable(rel),
                                  type_name(st.st_mode)));
  return fd;
}

ssize_t read_some(int fd, char* buf, size_t size) {
  ssize_t n;
  do n = ::read(fd, buf, size);
  while (n < 0 && errno == EINTR);
  return n;
}

void write_all(int fd, const char* buf, size_t size, const std::string& rel) {
  while (size > 0) {
    ssize_t n = ::write(fd, buf, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(fmt::format("'{}': cannot write: {}", rel, errno_text()));
    buf += n;
    size -= static_cast<size_t>(n);
  }
}

// Creates the directory `name` in dirfd (or accepts an existing one) and opens it.
Fd make_subdir(int dirfd, const std::string& name, const std::string& rel, bool* created) {
  *created = ::mkdirat(dirfd, name.c_str(), 0755) == 0;
  if (!*created && errno != EEXIST)
    throw std::runtime_error(fmt::format("'{}': cannot create: {}", rel, errno_text()));
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.ok()) throw IntakeError(fmt::format("'{}': conflicts with a file", printable(rel)));
  if (*created) ::fchmod(fd.get(), 0755);  // not subject to the umask
  return fd;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("cannot initialise SHA-256");
  }
  void update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    std::string out;
    for (unsigned int i = 0; i < size; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Writes the entries of one submission under a fresh directory, enforcing the caps while the
// bytes arrive, so that a bomb stops at the first byte past a cap.
class Stager {
 public:
  Stager(int root_fd, std::string label, const IntakeRules& rules, uint64_t archive_bytes)
      : root_fd_(root_fd), label_(std::move(label)), rules_(rules), archive_bytes_(archive_bytes) {}

  [[noreturn]] void fail(const std::string& rel, const std::string& problem) const {
    throw IntakeError(fmt::format("{}: '{}': {}", label_, printable(rel), problem));
  }

  uint64_t max_files() const { return rules_.max_files; }

  void add_directory(const std::string& rel) { open_directory(rel); }

  // Creates the file rel, filled by read(buffer, size) -> bytes read, 0 at the end.
  template <class Read>
  void add_file(const std::string& rel, const Read& read) {
    if (++files_ > rules_.max_files)
      fail(rel, fmt::format("more than {} files (max_files)", rules_.max_files));
    size_t slash = rel.rfind('/');
    Fd parent = open_directory(slash == std::string::npos ? "" : rel.substr(0, slash));
    std::string leaf = rel.substr(slash + 1);
    Fd out(::openat(parent.get(), leaf.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!out.ok())
      fail(rel, errno == EEXIST ? "appears twice" : "cannot be created: " + errno_text());
    ::fchmod(out.get(), 0644);
    std::vector<char> buffer(kBufferBytes);
    for (;;) {
      size_t n = read(buffer.data(), buffer.size());
      if (n == 0) break;
      bytes_ += n;
      if (bytes_ > rules_.max_bytes)
        fail(rel, fmt::format("submission is larger than {} bytes (max_bytes)", rules_.max_bytes));
      if (archive_bytes_ > 0 && bytes_ > kRatioFloor && bytes_ > kMaxRatio * archive_bytes_)
        fail(rel, fmt::format("archive expands more than {}:1 (archive bomb?)", kMaxRatio));
      write_all(out.get(), buffer.data(), n, rel);
    }
  }

 private:
  // Opens (creating as needed) the directory rel below the root.
  Fd open_directory(const std::string& rel) {
    Fd dir(::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::string done;
    size_t start = 0;
    int depth = 0;
    while (start < rel.size()) {
      size_t end = std::min(rel.find('/', start), rel.size());
      std::string part = rel.substr(start, end - start);
      start = end + 1;
      done = join(done, part);
      if (++depth > kMaxDepth) fail(done, "folders are nested too deeply");
      bool created = false;
      Fd sub = make_subdir(dir.get(), part, done, &created);
      if (created && ++dirs_ > rules_.max_files)
        fail(done, fmt::format("more than {} folders (max_files)", rules_.max_files));
      dir = std::move(sub);
    }
    return dir;
  }

  int root_fd_;
  std::string label_;
  const IntakeRules& rules_;
  uint64_t archive_bytes_;  // 0 for folders: no ratio cap
  uint64_t files_ = 0, dirs_ = 0, bytes_ = 0;
};

void stage_folder_level(Stager& stager, int dirfd, const std::string& prefix, int depth) {
  for (const std::string& name : list_dir(dirfd, prefix)) {
    std::string raw = join(prefix, name), problem;
    std::string rel = normalize_name(raw, &problem);
    if (!problem.empty()) stager.fail(raw, problem);
    if (is_os_clutter(rel)) continue;
    struct stat st = stat_entry(dirfd, name, rel);
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxDepth) stager.fail(rel, "folders are nested too deeply");
      stager.add_directory(rel);
      Fd sub = open_subdir(dirfd, name, rel);
      stage_folder_level(stager, sub.get(), rel, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) stager.fail(rel, "hard link (a file with several names)");
      Fd in = open_regular(dirfd, name, rel);
      stager.add_file(rel, [&](char* buf, size_t size) {
        ssize_t n = read_some(in.get(), buf, size);
        if (n < 0) stager.fail(rel, "cannot be read: " + errno_text());
        return static_cast<size_t>(n);
      });
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target, sizeof target);
      std::string to = n < 0 ? "?" : printable(std::string_view(target, static_cast<size_t>(n)));
      stager.fail(rel, fmt::format("symbolic link (to '{}')", to));
    } else {
      stager.fail(rel, type_name(st.st_mode));
    }
  }
}

void stage_archive(Stager& stager, const fs::path& source, const std::string& label) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  if (archive_read_open_filename(a.get(), source.c_str(), kBufferBytes) != ARCHIVE_OK)
    throw IntakeError(fmt::format("{}: not a readable .zip or .tar(.gz) archive: {}", label,
                                  archive_error_string(a.get())));
  // Entries that stage nothing (repeated folders, macOS clutter) still cost time: capped too.
  const uint64_t max_entries = 4 * stager.max_files() + 100;
  for (uint64_t entries = 1;; ++entries) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    // ARCHIVE_WARN comes with names that do not fit the locale: those are checked below.
    if (status < ARCHIVE_WARN)
      throw IntakeError(
          fmt::format("{}: damaged archive: {}", label, archive_error_string(a.get())));
    const char* name = archive_entry_pathname_utf8(entry);
    if (name == nullptr) name = archive_entry_pathname(entry);
    std::string raw = name == nullptr ? "" : name, problem;
    std::string rel = normalize_name(raw, &problem);
    if (!problem.empty()) stager.fail(raw, problem);
    if (entries > max_entries) stager.fail(rel, fmt::format("more than {} entries", max_entries));
    if (is_os_clutter(rel)) continue;
    mode_t type = archive_entry_filetype(entry);
    if (const char* target = archive_entry_hardlink(entry))
      stager.fail(rel, fmt::format("hard link (to '{}')", printable(target)));
    if (type == AE_IFDIR) {
      if (!rel.empty()) stager.add_directory(rel);
    } else if (type == AE_IFREG) {
      if (rel.empty()) stager.fail(raw, "file without a name");
      stager.add_file(rel, [&](char* buf, size_t size) {
        la_ssize_t n = archive_read_data(a.get(), buf, size);
        if (n < 0)
          stager.fail(rel, fmt::format("cannot be read: {}", archive_error_string(a.get())));
        return static_cast<size_t>(n);
      });
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      stager.fail(rel, fmt::format("symbolic link (to '{}')", printable(target ? target : "?")));
    } else {
      stager.fail(rel, type_name(type));
    }
  }
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_regular_at(const fs::path& dir, const std::string& rel) {
  struct stat st {};
  return ::fstatat(AT_FDCWD, (dir / rel).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

// The relative paths and sizes of the regular files under dir (a tree this process wrote).
void list_files(int dirfd, const std::string& prefix,
                std::vector<std::pair<std::string, uint64_t>>* out) {
  for (const std::string& name : list_dir(dirfd, prefix)) {
    std::string rel = join(prefix, name);
    struct stat st = stat_entry(dirfd, name, rel);
    if (S_ISDIR(st.st_mode))
      list_files(open_subdir(dirfd, name, rel).get(), rel, out);
    else if (S_ISREG(st.st_mode))
      out->emplace_back(rel, static_cast<uint64_t>(st.st_size));
  }
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "'" : ", '") + printable(name) + "'";
  return out;
}

// Checks the staged tree against the assignment's rules; throws naming every offender.
StagedSubmission check_staged(const fs::path& dir, const std::string& label,
                              const IntakeRules& rules) {
  std::vector<std::pair<std::string, uint64_t>> files;
  list_files(Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)).get(), "", &files);
  StagedSubmission staged{dir, "", files.size(), 0};
  std::vector<std::string> not_allowed, missing;
  for (const auto& [rel, size] : files) {
    staged.bytes += size;
    bool allowed = rules.allowed.empty();
    for (const std::string& pattern : rules.allowed)
      allowed = allowed || ::fnmatch(pattern.c_str(), rel.c_str(), 0) == 0;
    if (!allowed) not_allowed.push_back(rel);
  }
  for (const std::string& rel : rules.required)
    if (!is_regular_at(dir, rel)) missing.push_back(rel);
  std::vector<std::string> problems;
  if (!missing.empty()) problems.push_back("missing required file(s): " + join_names(missing));
  if (!not_allowed.empty()) {
    std::string patterns;
    for (const std::string& p : rules.allowed) patterns += (patterns.empty() ? "" : ", ") + p;
    problems.push_back(fmt::format("file(s) not allowed by the assignment: {} (allowed: {})",
                                   join_names(not_allowed), patterns));
  }
  if (!problems.empty()) {
    std::string message = label + ": " + problems[0];
    if (problems.size() > 1) message += "; " + problems[1];
    throw IntakeError(message);
  }
  staged.content_hash = hash_tree(dir);
  return staged;
}

// Students often zip their folder: when everything sits in one folder and the required files
// are found in it rather than at the top, that folder becomes the submission.
std::string wrapper_to_unwrap(const fs::path& dir, const IntakeRules& rules) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> top = list_dir(fd.get(), "");
  if (top.size() != 1 || !fs::is_directory(fs::symlink_status(dir / top[0]))) return {};
  size_t at_top = 0, inside = 0;
  for (const std::string& rel : rules.required) {
    at_top += is_regular_at(dir, rel);
    inside += is_regular_at(dir / top[0], rel);
  }
  return inside > at_top ? top[0] : std::string();
}

struct CopyRules {
  uint64_t max_bytes, max_files;
  bool untrusted;  // skip links, FIFOs, devices and hard links instead of failing; no exec bits
};

struct CopyState {
  uint64_t files = 0, dirs = 0, bytes = 0;
  std::vector<std::string> skipped;
};

void copy_level(int src, int dst, const std::string& prefix, int depth, const CopyRules& rules,
                CopyState& state) {
  for (const std::string& name : list_dir(src, prefix)) {
    std::string rel = join(prefix, name);
    struct stat st = stat_entry(src, name, rel);
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxDepth)
        throw IntakeError(fmt::format("'{}': folders are nested too deeply", printable(rel)));
      if (++state.dirs > rules.max_files)
        throw IntakeError(
            fmt::format("'{}': more than {} folders", printable(rel), rules.max_files));
      bool created = false;
      Fd out = make_subdir(dst, name, rel, &created);
      copy_level(open_subdir(src, name, rel).get(), out.get(), rel, depth + 1, rules, state);
      continue;
    }
    std::string skip_reason;
    if (!S_ISREG(st.st_mode))
      skip_reason = type_name(st.st_mode);
    else if (rules.untrusted && st.st_nlink > 1)
      skip_reason = "hard link";
    if (!skip_reason.empty()) {
      if (!rules.untrusted)
        throw IntakeError(fmt::format("'{}': {} (only files and folders are copied)",
                                      printable(rel), skip_reason));
      state.skipped.push_back(fmt::format("{}: {}, not copied", printable(rel), skip_reason));
      continue;
    }
    if (++state.files > rules.max_files)
      throw IntakeError(fmt::format("'{}': more than {} files", printable(rel), rules.max_files));
    Fd in = open_regular(src, name, rel);
    mode_t mode = !rules.untrusted && (st.st_mode & 0111) ? 0755 : 0644;
    Fd out(
        ::openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!out.ok())
      throw std::runtime_error(fmt::format("'{}': cannot create: {}", rel, errno_text()));
    ::fchmod(out.get(), mode);
    std::vector<char> buffer(kBufferBytes);
    for (;;) {
      ssize_t n = read_some(in.get(), buffer.data(), buffer.size());
      if (n < 0)
        throw IntakeError(fmt::format("'{}': cannot read: {}", printable(rel), errno_text()));
      if (n == 0) break;
      state.bytes += static_cast<uint64_t>(n);
      if (state.bytes > rules.max_bytes)
        throw IntakeError(
            fmt::format("'{}': outputs are larger than {} bytes", printable(rel), rules.max_bytes));
      write_all(out.get(), buffer.data(), static_cast<size_t>(n), rel);
    }
  }
}

CopyState copy_dir(const fs::path& src, const fs::path& dst, const CopyRules& rules) {
  // O_NOFOLLOW on the root too: a box may have replaced its own output folder with a link.
  Fd in(::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.ok())
    throw IntakeError(fmt::format("{}: cannot open folder: {}", src.string(), errno_text()));
  fs::create_directories(dst);
  Fd out(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!out.ok())
    throw std::runtime_error(fmt::format("{}: cannot open: {}", dst.string(), errno_text()));
  CopyState state;
  copy_level(in.get(), out.get(), "", 0, rules, state);
  return state;
}

}  // namespace

StagedSubmission stage_submission(const fs::path& source, const fs::path& dest_dir,
                                  const IntakeRules& rules) {
  if (rules.max_bytes == 0 || rules.max_files == 0)
    throw std::invalid_argument("intake rules need max_bytes and max_files above 0");
  std::string label = source.filename().string();
  std::error_code ec;
  fs::file_status status = fs::status(source, ec);  // the root may be a link: the operator's path
  uint64_t archive_bytes = 0;
  if (fs::is_regular_file(status)) {
    std::string lower = label;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!ends_with(lower, ".zip") && !ends_with(lower, ".tar.gz") && !ends_with(lower, ".tgz") &&
        !ends_with(lower, ".tar"))
      throw IntakeError(label + ": a submission is a folder, a .zip, a .tar.gz or a .tar");
    archive_bytes = std::max<uint64_t>(fs::file_size(source), 1);
  } else if (!fs::is_directory(status)) {
    throw IntakeError(source.string() + ": no such folder or archive");
  }

  fs::path dest = fs::absolute(dest_dir).lexically_normal();
  if (!dest.has_filename()) dest = dest.parent_path();
  if (fs::exists(fs::symlink_status(dest)))
    throw std::runtime_error(dest.string() + ": staging folder already exists");
  fs::create_directories(dest.parent_path());
  // Entries land in a sibling folder first: dest appears only once the intake succeeded.
  fs::path partial = dest.parent_path() / ("." + dest.filename().string() + ".partial");
  fs::remove_all(partial);
  if (::mkdir(partial.c_str(), 0700) != 0)
    throw std::runtime_error(fmt::format("{}: cannot create: {}", partial.string(), errno_text()));
  try {
    {
      Fd root(::open(partial.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      ::fchmod(root.get(), 0755);
      Stager stager(root.get(), label, rules, archive_bytes);
      if (archive_bytes > 0) {
        stage_archive(stager, source, label);
      } else {
        Fd in(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!in.ok()) throw IntakeError(fmt::format("{}: cannot open: {}", label, errno_text()));
        stage_folder_level(stager, in.get(), "", 0);
      }
    }
    std::string wrapper = wrapper_to_unwrap(partial, rules);
    fs::rename(wrapper.empty() ? partial : partial / wrapper, dest);
    fs::remove_all(partial);
    return check_staged(dest, label, rules);
  } catch (...) {
    fs::remove_all(partial, ec);
    fs::remove_all(dest, ec);
    throw;
  }
}

std::string hash_tree(const fs::path& dir) {
  // Each file's content is hashed on its own; the tree hash covers the sorted list of
  // "path NUL content-hash NL", so it depends on neither listing order nor timestamps.
  std::vector<std::pair<std::string, std::string>> entries;
  auto visit = [&](auto& self, int dirfd, const std::string& prefix, int depth) -> void {
    for (const std::string& name : list_dir(dirfd, prefix)) {
      std::string rel = join(prefix, name);
      struct stat st = stat_entry(dirfd, name, rel);
      if (S_ISDIR(st.st_mode)) {
        if (depth >= kMaxDepth)
          throw IntakeError(fmt::format("'{}': folders are nested too deeply", printable(rel)));
        self(self, open_subdir(dirfd, name, rel).get(), rel, depth + 1);
      } else if (S_ISREG(st.st_mode)) {
        Fd in = open_regular(dirfd, name, rel);
        Sha256 sha;
        std::vector<char> buffer(kBufferBytes);
        ssize_t n;
        while ((n = read_some(in.get(), buffer.data(), buffer.size())) > 0)
          sha.update(buffer.data(), static_cast<size_t>(n));
        if (n < 0)
          throw IntakeError(fmt::format("'{}': cannot read: {}", printable(rel), errno_text()));
        entries.emplace_back(rel, sha.hex());
      } else {
        throw IntakeError(fmt::format("{}: '{}': {} (only files and folders are hashed)",
                                      dir.string(), printable(rel), type_name(st.st_mode)));
      }
    }
  };
  Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok())
    throw IntakeError(fmt::format("{}: cannot open folder: {}", dir.string(), errno_text()));
  visit(visit, root.get(), "", 0);
  std::sort(entries.begin(), entries.end());
  Sha256 tree;
  for (const auto& [rel, content] : entries) {
    tree.update(rel);
    tree.update("\0", 1);
    tree.update(content);
    tree.update("\n", 1);
  }
  return "sha256:" + tree.hex();
}

std::vector<std::string> copy_box_outputs(const fs::path& box_dir, const fs::path& dest,
                                          const CopyLimits& limits) {
  return copy_dir(box_dir, dest, {limits.max_bytes, limits.max_files, true}).skipped;
}

void copy_tree(const fs::path& src, const fs::path& dst) {
  copy_dir(src, dst, {UINT64_MAX, UINT64_MAX, false});
}

}  // namespace grader
