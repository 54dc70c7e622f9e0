// Intake of hostile submissions and box outputs. Every file under a source is opened relative
// to an already opened directory with O_NOFOLLOW, so no path a student controls is ever
// followed; every write lands in a directory this process created.
#include "grader/engine/intake.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string_view>
#include <utility>

#include "common/fd.h"
#include "common/utf8.h"
#include "grader/box/remove_tree.h"
#include "grader/engine/tree_hash.h"

namespace fs = std::filesystem;

namespace grader {
namespace {

// libarchive's message for its last error; it has none for some damaged inputs (found by
// fuzz/intake_archive.cc: a null pointer there made fmt throw instead of a rejection).
const char* archive_problem(struct archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "unreadable data (no detail from libarchive)";
}

constexpr uint64_t kRatioFloor = 1 << 20;  // archives expanding to less are never bombs
constexpr uint64_t kMaxRatio = 100;        // expanded bytes per archive byte
constexpr int kMaxDepth = 32;
constexpr size_t kMaxComponentBytes = 255;
constexpr size_t kMaxPathBytes = 1024;
constexpr size_t kBufferBytes = 64 * 1024;

using common::Fd;

std::string errno_text() { return std::strerror(errno); }

using common::is_valid_utf8;

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

// What tools leave beside a student's files. A path is clutter when one of its folders (or
// itself) has one of these names: it is ignored, never staged (see intake.h).
struct ClutterName {
  std::string_view name;
  const char* what;
};
constexpr ClutterName kClutterFolders[] = {
    {"__pycache__", "Python bytecode cache"},      {".pytest_cache", "pytest cache"},
    {".ipynb_checkpoints", "Jupyter checkpoints"}, {".git", "git repository"},
    {".vscode", "editor settings (VS Code)"},      {".idea", "editor settings (JetBrains)"},
    {"__MACOSX", "macOS archive metadata"},
};

struct Clutter {
  std::string root;  // the shallowest ignored path: "src/__pycache__/", "a.pyc"
  const char* what;
};

// The clutter rel belongs to, if any; `is_folder`: rel itself is a folder.
std::optional<Clutter> clutter_of(const std::string& rel, bool is_folder) {
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = std::min(rel.find('/', start), rel.size());
    std::string_view part = std::string_view(rel).substr(start, end - start);
    bool last = end == rel.size();
    for (const ClutterName& c : kClutterFolders) {
      if (part == c.name)
        return Clutter{rel.substr(0, end) + (!last || is_folder ? "/" : ""), c.what};
    }
    if (last && !is_folder) {
      if (part == ".DS_Store") return Clutter{rel, "macOS folder settings"};
      if (part.size() > 4 && part.substr(part.size() - 4) == ".pyc")
        return Clutter{rel, "Python bytecode"};
    }
    start = end + 1;
  }
  return std::nullopt;
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

// The bytes one archive unpacks, every entry included: counted where the .gz stream is
// inflated (by GzipSource) and where entry data arrives (zip entries inflate in libarchive).
class Budget {
 public:
  Budget(uint64_t budget, uint64_t archive_bytes)
      : budget_(budget), archive_bytes_(archive_bytes) {}

  // The problem once `unpacked` passes a cap, else "".
  std::string over(uint64_t unpacked) const {
    if (archive_bytes_ == 0) return "";  // a folder: nothing is unpacked
    if (unpacked > budget_)
      return fmt::format(
          "archive unpacks to more than {} bytes, its decompression budget (max_bytes + "
          "max(max_bytes, 8 MiB), ignored entries included); unpacking stopped",
          budget_);
    if (unpacked > kRatioFloor && unpacked > kMaxRatio * archive_bytes_)
      return fmt::format("archive expands more than {}:1 (archive bomb?)", kMaxRatio);
    return "";
  }

 private:
  uint64_t budget_, archive_bytes_;  // archive_bytes_ 0: a folder
};

// Writes the entries of one submission under a fresh directory, enforcing the caps while the
// bytes arrive, so that a bomb stops at the first byte past a cap.
class Stager {
 public:
  Stager(int root_fd, std::string label, const IntakeRules& rules, uint64_t archive_bytes)
      : root_fd_(root_fd),
        label_(std::move(label)),
        rules_(rules),
        budget_(decompression_budget(rules.max_bytes), archive_bytes) {}

  [[noreturn]] void fail(const std::string& rel, const std::string& problem) const {
    throw IntakeError(fmt::format("{}: '{}': {}", label_, printable(rel), problem));
  }
  [[noreturn]] void fail_archive(const std::string& problem) const {
    throw IntakeError(fmt::format("{}: {}", label_, problem));
  }

  uint64_t max_files() const { return rules_.max_files; }
  const Budget& budget() const { return budget_; }
  const IntakeRules& rules() const { return rules_; }

  // The most bytes unpacked so far: entry data, or the inflated stream when larger.
  uint64_t unpacked() const { return std::max(payload_, inflated_); }
  void set_inflated(uint64_t bytes) { inflated_ = bytes; }

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
      count_unpacked(rel, n);
      bytes_ += n;
      if (bytes_ > rules_.max_bytes)
        fail(rel, fmt::format("submission is larger than {} bytes (max_bytes)", rules_.max_bytes));
      write_all(out.get(), buffer.data(), n, rel);
    }
  }

  // Reads and drops what is left of an entry, counting it: nothing is unpacked uncounted.
  template <class Read>
  uint64_t drain(const std::string& rel, const Read& read) {
    std::vector<char> buffer(kBufferBytes);
    uint64_t total = 0;
    for (size_t n; (n = read(buffer.data(), buffer.size())) > 0;) {
      count_unpacked(rel, n);
      total += n;
    }
    return total;
  }

  // Entry data that arrived (staged or not): the budget and the ratio see every byte.
  void count_unpacked(const std::string& rel, uint64_t n) {
    payload_ += n;
    if (std::string problem = budget_.over(unpacked()); !problem.empty()) fail(rel, problem);
  }

  // Records an ignored entry under its clutter root.
  void ignore(const std::string& root, const std::string& what, bool counted, uint64_t bytes) {
    auto it = ignored_.find(root);
    if (it == ignored_.end()) {
      std::string key = ignored_.size() < kMaxIgnoredListed ? root : std::string(kOtherIgnored);
      it = ignored_
               .emplace(key, IgnoredEntry{key, key == root ? what : "more ignored entries",
                                          std::nullopt, std::nullopt})
               .first;
    }
    if (!counted) return;
    it->second.files = it->second.files.value_or(0) + 1;
    it->second.bytes = it->second.bytes.value_or(0) + bytes;
  }
  void ignore_path(const std::string& root, const std::string& what) {
    if (!ignored_.count(root)) ignore(root, what, false, 0);
  }

  std::vector<IgnoredEntry> ignored() const {
    std::vector<IgnoredEntry> out;
    for (const auto& [path, entry] : ignored_) out.push_back(entry);
    return out;
  }

  static constexpr std::string_view kOtherIgnored = "(more)";

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
  Budget budget_;
  uint64_t files_ = 0, dirs_ = 0, bytes_ = 0;
  uint64_t payload_ = 0, inflated_ = 0;  // entry bytes read; the inflated .gz stream
  std::map<std::string, IgnoredEntry> ignored_;
};

bool meta_toml_is_metadata(const IntakeRules& rules) {
  return rules.meta_toml_is_metadata && std::find(rules.required.begin(), rules.required.end(),
                                                  "meta.toml") == rules.required.end();
}

void stage_folder_level(Stager& stager, int dirfd, const std::string& prefix, int depth) {
  for (const std::string& name : list_dir(dirfd, prefix)) {
    std::string raw = join(prefix, name), problem;
    std::string rel = normalize_name(raw, &problem);
    if (!problem.empty()) stager.fail(raw, problem);
    struct stat st = stat_entry(dirfd, name, rel);
    // Ignored entries are never opened: an ignored folder is not even listed.
    if (auto clutter = clutter_of(rel, S_ISDIR(st.st_mode))) {
      if (S_ISREG(st.st_mode))
        stager.ignore(clutter->root, clutter->what, true, static_cast<uint64_t>(st.st_size));
      else
        stager.ignore_path(clutter->root, clutter->what);
      continue;
    }
    if (depth == 0 && rel == "meta.toml" && S_ISREG(st.st_mode) &&
        meta_toml_is_metadata(stager.rules())) {
      stager.ignore_path(rel, "submission metadata, read by the grader");
      continue;
    }
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

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// The .gz layer of an archive, inflated here (through libarchive's raw format) rather than by
// a filter of the reader itself: then every inflated byte passes the budget, also the bytes
// the tar reader reads past on its own (headers, padding, what follows a folder entry).
struct GzipSource {
  archive* inner = nullptr;
  Stager* stager = nullptr;
  std::vector<char> buffer = std::vector<char>(kBufferBytes);
  uint64_t inflated = 0;
  std::string problem;  // set once inflating must stop
};

la_ssize_t read_gzip(archive* outer, void* data, const void** out) {
  auto* gz = static_cast<GzipSource*>(data);
  if (gz->problem.empty()) {
    la_ssize_t n = archive_read_data(gz->inner, gz->buffer.data(), gz->buffer.size());
    if (n < 0) {
      gz->problem = fmt::format("damaged archive: {}", archive_problem(gz->inner));
    } else {
      gz->inflated += static_cast<uint64_t>(n);
      gz->stager->set_inflated(gz->inflated);
      gz->problem = gz->stager->budget().over(gz->stager->unpacked());
      if (gz->problem.empty()) {
        *out = gz->buffer.data();
        return n;
      }
    }
  }
  archive_set_error(outer, EIO, "%s", gz->problem.c_str());
  return -1;
}

bool has_gzip_magic(const fs::path& source) {
  Fd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  unsigned char magic[2] = {0, 0};
  return fd.ok() && ::read(fd.get(), magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

void stage_archive(Stager& stager, const fs::path& source, const std::string& label) {
  ArchivePtr a(archive_read_new(), archive_read_free), inner(nullptr, archive_read_free);
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  GzipSource gz;
  int opened;
  if (has_gzip_magic(source)) {
    inner.reset(archive_read_new());
    archive_read_support_filter_gzip(inner.get());
    archive_read_support_format_raw(inner.get());
    archive_entry* stream = nullptr;
    if (archive_read_open_filename(inner.get(), source.c_str(), kBufferBytes) != ARCHIVE_OK ||
        archive_read_next_header(inner.get(), &stream) != ARCHIVE_OK)
      throw IntakeError(
          fmt::format("{}: not a readable .gz file: {}", label, archive_problem(inner.get())));
    gz.inner = inner.get();
    gz.stager = &stager;
    opened = archive_read_open(a.get(), &gz, nullptr, read_gzip, nullptr);
  } else {
    opened = archive_read_open_filename(a.get(), source.c_str(), kBufferBytes);
  }
  if (opened != ARCHIVE_OK) {
    if (!gz.problem.empty()) stager.fail_archive(gz.problem);
    throw IntakeError(fmt::format("{}: not a readable .zip or .tar(.gz) archive: {}", label,
                                  archive_problem(a.get())));
  }
  // A failed read names the budget when that is why the stream stopped.
  auto reader = [&](const std::string& rel) {
    return [&, rel](char* buf, size_t size) {
      la_ssize_t n = archive_read_data(a.get(), buf, size);
      if (n < 0) {
        if (!gz.problem.empty()) stager.fail(rel, gz.problem);
        stager.fail(rel, fmt::format("cannot be read: {}", archive_problem(a.get())));
      }
      return static_cast<size_t>(n);
    };
  };
  // Entries that stage nothing (repeated folders, clutter) still cost time: capped too.
  const uint64_t max_entries = 4 * stager.max_files() + 100;
  for (uint64_t entries = 1;; ++entries) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(a.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    // ARCHIVE_WARN comes with names that do not fit the locale: those are checked below.
    if (status < ARCHIVE_WARN) {
      if (!gz.problem.empty()) stager.fail_archive(gz.problem);
      throw IntakeError(fmt::format("{}: damaged archive: {}", label, archive_problem(a.get())));
    }
    const char* name = archive_entry_pathname_utf8(entry);
    if (name == nullptr) name = archive_entry_pathname(entry);
    std::string raw = name == nullptr ? "" : name, problem;
    std::string rel = normalize_name(raw, &problem);
    if (!problem.empty()) stager.fail(raw, problem);
    if (entries > max_entries) stager.fail(rel, fmt::format("more than {} entries", max_entries));
    mode_t type = archive_entry_filetype(entry);
    if (auto clutter = clutter_of(rel, type == AE_IFDIR)) {
      uint64_t bytes = stager.drain(rel, reader(rel));  // never staged, always counted
      stager.ignore(clutter->root, clutter->what, type != AE_IFDIR, bytes);
      continue;
    }
    if (const char* target = archive_entry_hardlink(entry))
      stager.fail(rel, fmt::format("hard link (to '{}')", printable(target)));
    if (type == AE_IFDIR) {
      if (!rel.empty()) stager.add_directory(rel);
    } else if (type == AE_IFREG) {
      if (rel.empty()) stager.fail(raw, "file without a name");
      stager.add_file(rel, reader(rel));
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      stager.fail(rel, fmt::format("symbolic link (to '{}')", printable(target ? target : "?")));
    } else {
      stager.fail(rel, type_name(type));
    }
    stager.drain(rel, reader(rel));  // data a folder entry may carry: counted, not skipped
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

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A file name's stem without what copying adds: "model (1)", "model(2)", "model-1",
// "model_2", "model_copy", "model - Copy", "model copy 2".
std::string without_copy_suffix(const std::string& stem) {
  static const std::regex suffix(R"(^(.+?)(\s*\(\d+\)|[ _-]\d+|[ _-]*(-\s*)?copy(\s*\(?\d+\)?)?)$)",
                                 std::regex::icase);
  std::smatch m;
  return std::regex_match(stem, m, suffix) ? std::string(m[1]) : stem;
}

// "name.ext" -> ("name", ".ext"); a leading dot is part of the stem.
std::pair<std::string, std::string> split_extension(const std::string& base) {
  size_t dot = base.rfind('.');
  if (dot == std::string::npos || dot == 0) return {base, ""};
  return {base.substr(0, dot), base.substr(dot)};
}

// " (found 'Autodiff.py': rename it to 'autodiff.py')" when a staged file differs from the
// required path only in case or by a copy suffix (in the same folder: rename; elsewhere:
// move); else "".
std::string near_miss_hint(const std::string& required,
                           const std::vector<std::pair<std::string, uint64_t>>& files) {
  auto split = [](const std::string& rel) {
    size_t slash = rel.rfind('/');
    return slash == std::string::npos ? std::pair<std::string, std::string>{"", rel}
                                      : std::pair{rel.substr(0, slash), rel.substr(slash + 1)};
  };
  auto [want_dir, want_base] = split(required);
  auto [want_stem, want_ext] = split_extension(want_base);
  std::vector<std::string> hints;
  for (const auto& [rel, size] : files) {
    auto [dir, base] = split(rel);
    auto [stem, ext] = split_extension(base);
    bool same_name = lowercase(base) == lowercase(want_base) ||
                     (lowercase(ext) == lowercase(want_ext) &&
                      lowercase(without_copy_suffix(stem)) == lowercase(want_stem));
    if (!same_name || rel == required) continue;
    hints.push_back(fmt::format("found '{}': {} it to '{}'", printable(rel),
                                lowercase(dir) == lowercase(want_dir) ? "rename" : "move",
                                printable(required)));
    if (hints.size() == 3) break;
  }
  std::string out;
  for (const std::string& h : hints) out += (out.empty() ? " (" : "; ") + h;
  return out.empty() ? out : out + ")";
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
  if (!missing.empty()) {
    std::string text = "missing required file(s): ";
    for (size_t i = 0; i < missing.size(); ++i)
      text += (i ? ", '" : "'") + printable(missing[i]) + "'" + near_miss_hint(missing[i], files);
    problems.push_back(text);
  }
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

uint64_t decompression_budget(uint64_t max_bytes) {
  constexpr uint64_t kClutterFloor = 8ull << 20;
  uint64_t room = std::max(max_bytes, kClutterFloor);
  return max_bytes > UINT64_MAX - room ? UINT64_MAX : max_bytes + room;
}

StagedSubmission stage_submission(const fs::path& source, const fs::path& dest_dir,
                                  const IntakeRules& rules, IntakeStats* stats) {
  if (rules.max_bytes == 0 || rules.max_files == 0)
    throw std::invalid_argument("intake rules need max_bytes and max_files above 0");
  std::string label = source.filename().string();
  std::error_code ec;
  fs::file_status status = fs::status(source, ec);  // the root may be a link: the operator's path
  uint64_t archive_bytes = 0;
  if (fs::is_regular_file(status)) {
    std::string lower = lowercase(label);
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
  remove_tree_or_throw(partial);
  if (::mkdir(partial.c_str(), 0700) != 0)
    throw std::runtime_error(fmt::format("{}: cannot create: {}", partial.string(), errno_text()));
  Fd root(::open(partial.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  Stager stager(root.get(), label, rules, archive_bytes);
  auto record = [&] {
    if (stats) stats->decompressed_bytes = stager.unpacked();
  };
  try {
    ::fchmod(root.get(), 0755);
    if (archive_bytes > 0) {
      stage_archive(stager, source, label);
    } else {
      Fd in(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!in.ok()) throw IntakeError(fmt::format("{}: cannot open: {}", label, errno_text()));
      stage_folder_level(stager, in.get(), "", 0);
    }
    record();
    root = Fd(-1);
    std::string wrapper = wrapper_to_unwrap(partial, rules);
    fs::rename(wrapper.empty() ? partial : partial / wrapper, dest);
    remove_tree_or_throw(partial);
    StagedSubmission staged = check_staged(dest, label, rules);
    staged.ignored = stager.ignored();
    if (!wrapper.empty()) {
      // Paths as the student sees them once the wrapping folder is gone.
      for (IgnoredEntry& entry : staged.ignored)
        if (entry.path.rfind(wrapper + "/", 0) == 0) entry.path.erase(0, wrapper.size() + 1);
      std::sort(staged.ignored.begin(), staged.ignored.end(),
                [](const IgnoredEntry& x, const IgnoredEntry& y) { return x.path < y.path; });
    }
    return staged;
  } catch (...) {
    record();
    root = Fd(-1);
    // Our own folders (0755 and 0644): a failure here is the disk's, and must not hide why the
    // intake stopped.
    for (const fs::path& p : {partial, dest})
      if (std::string error = remove_tree(p); !error.empty())
        spdlog::error("intake: cannot clean up: {}", error);
    throw;
  }
}

std::string hash_tree(const fs::path& dir) {
  // The definition is tree_hash's (grader/engine/tree_hash.h).
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
  return tree_hash(std::move(entries));
}

std::vector<std::string> copy_box_outputs(const fs::path& box_dir, const fs::path& dest,
                                          const CopyLimits& limits) {
  return copy_dir(box_dir, dest, {limits.max_bytes, limits.max_files, true}).skipped;
}

void copy_tree(const fs::path& src, const fs::path& dst) {
  copy_dir(src, dst, {UINT64_MAX, UINT64_MAX, false});
}

}  // namespace grader
