// Intake of submissions and copies out of boxes. Hostile archives are built here, at test time,
// with libarchive's writer, so every case is visible in this file.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "grader/engine/engine.h"
#include "grader/engine/intake.h"

namespace fs = std::filesystem;
using grader::IntakeError;
using grader::IntakeRules;

namespace {

enum class Format { Zip, TarGz, Tar };

struct Entry {
  std::string name;
  std::string content;
  mode_t type = AE_IFREG;
  std::string target;  // symbolic or hard link target
  bool hardlink = false;
  uint64_t zeros = 0;  // when set, the content is this many zero bytes
};

void make_archive(const fs::path& path, Format format, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  if (format == Format::Zip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_ustar(a);  // stores names as raw bytes, whatever they are
    if (format == Format::TarGz) archive_write_add_filter_gzip(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_copy_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.type == AE_IFDIR ? 0755 : 0644);
    if (e.type == AE_IFLNK) archive_entry_copy_symlink(entry, e.target.c_str());
    if (e.hardlink) archive_entry_copy_hardlink(entry, e.target.c_str());
    uint64_t size = e.zeros ? e.zeros : e.content.size();
    if (e.type == AE_IFREG && !e.hardlink) archive_entry_set_size(entry, size);
    ASSERT_GE(archive_write_header(a, entry), ARCHIVE_WARN) << archive_error_string(a);
    if (e.zeros) {
      std::string chunk(1 << 20, '\0');
      for (uint64_t done = 0; done < e.zeros; done += chunk.size())
        archive_write_data(a, chunk.data(), std::min<uint64_t>(chunk.size(), e.zeros - done));
    } else if (!e.content.empty()) {
      archive_write_data(a, e.content.data(), e.content.size());
    }
    archive_entry_free(entry);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
}

void write_file(const fs::path& path, const std::string& content,
                fs::perms perms = fs::perms(0644)) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
  fs::permissions(path, perms);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything about a tree that intake must not change: paths, types, modes, mtimes, contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    lstat(entry.path().c_str(), &st);
    std::string facts = std::to_string(st.st_mode) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                        std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) facts += " " + read_file(entry.path());
    out[fs::relative(entry.path(), dir)] = facts;
  }
  return out;
}

uint64_t bytes_written_by_this_process() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

const std::vector<Entry> kGoodEntries = {
    {"main.py", "print('hello')\n"},
    {"util/helpers.py", "def helper():\n    return 42\n"},
    {"README.md", "# My submission\n"},
    {"data/notes.txt", "caf\xc3\xa9\n"},
    {"donn\xc3\xa9\x65s/\xe6\x97\xa5\xe6\x9c\xac.py", "x = 1\n"},  // UTF-8 names are fine
};

// Bytes gzip cannot shrink (a deterministic stream), so that only the budget stops them.
std::string incompressible(size_t size) {
  std::mt19937_64 random(42);
  std::string out(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t word = random();
    std::memcpy(out.data() + i, &word, 8);
  }
  return out;
}

const std::vector<Entry> kClutter = {
    {".pytest_cache/v/cache/lastfailed", "{}"},
    {".pytest_cache/README.md", "# pytest cache"},
    {"__pycache__/main.cpython-311.pyc", std::string(300, '\x01')},
    {"util/__pycache__/helpers.cpython-311.pyc", "\x01\x02"},
    {"loose.pyc", "\x03"},
    {".git/HEAD", "ref: refs/heads/main\n"},
    {".git/objects/ab/cdef", "blob"},
    {".vscode/settings.json", "{}"},
    {".idea/workspace.xml", "<xml/>"},
    {".ipynb_checkpoints/nb-checkpoint.ipynb", "{}"},
    {".DS_Store", "mac"},
    {"util/.DS_Store", "mac"},
    {"__MACOSX/._main.py", "mac"},
};

std::set<std::string> ignored_paths(const grader::StagedSubmission& staged) {
  std::set<std::string> out;
  for (const auto& entry : staged.ignored) out.insert(entry.path);
  return out;
}

class Intake : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "test_intake.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    tmp = pattern;
  }
  void TearDown() override { fs::remove_all(tmp); }

  IntakeRules rules() const { return {{"main.py"}, {"*.py", "*.md", "data/*.txt"}, 1 << 20, 20}; }

  fs::path good_folder() {
    fs::path dir = tmp / "folder";
    for (const Entry& e : kGoodEntries) write_file(dir / e.name, e.content);
    return dir;
  }

  // Stages source, expects an IntakeError and returns its message. Nothing may be left behind.
  std::string rejection(const fs::path& source, const IntakeRules& r) {
    fs::path dest = tmp / "staged-rejected";
    try {
      grader::stage_submission(source, dest, r);
    } catch (const IntakeError& e) {
      EXPECT_FALSE(fs::exists(dest));
      EXPECT_FALSE(fs::exists(tmp / ".staged-rejected.partial"));
      return e.what();
    }
    ADD_FAILURE() << source << " was accepted";
    return "";
  }

  std::string rejection(Format format, const std::vector<Entry>& entries) {
    fs::path path = tmp / (format == Format::Zip   ? "bad.zip"
                           : format == Format::Tar ? "bad.tar"
                                                   : "bad.tar.gz");
    fs::remove(path);
    make_archive(path, format, entries);
    return rejection(path, rules());
  }

  fs::path tmp;
};

TEST_F(Intake, FolderZipTarGzAndTarStageTheSameContent) {
  fs::path folder = good_folder();
  make_archive(tmp / "s.zip", Format::Zip, kGoodEntries);
  make_archive(tmp / "s.tar.gz", Format::TarGz, kGoodEntries);
  make_archive(tmp / "s.tgz", Format::TarGz, kGoodEntries);
  make_archive(tmp / "s.tar", Format::Tar, kGoodEntries);

  auto from_folder = grader::stage_submission(folder, tmp / "a", rules());
  EXPECT_EQ(from_folder.dir, tmp / "a");
  EXPECT_EQ(from_folder.files, 5u);
  EXPECT_EQ(from_folder.bytes, 15u + 28u + 16u + 6u + 6u);
  EXPECT_EQ(from_folder.content_hash.rfind("sha256:", 0), 0u);
  EXPECT_EQ(from_folder.content_hash.size(), 7u + 64u);
  EXPECT_EQ(read_file(tmp / "a/util/helpers.py"), "def helper():\n    return 42\n");
  EXPECT_EQ(fs::status(tmp / "a/main.py").permissions(), fs::perms(0644));
  EXPECT_EQ(fs::status(tmp / "a/util").permissions(), fs::perms(0755));

  int n = 0;
  for (const char* name : {"s.zip", "s.tar.gz", "s.tgz", "s.tar"}) {
    auto staged = grader::stage_submission(tmp / name, tmp / ("b" + std::to_string(n++)), rules());
    EXPECT_EQ(staged.content_hash, from_folder.content_hash) << name;
    EXPECT_EQ(staged.files, 5u) << name;
    EXPECT_EQ(staged.bytes, from_folder.bytes) << name;
  }
}

// One definition of a folder's hash (grader/engine/tree_hash.h) for submissions and
// assignments; its format is fixed (a known answer, computed with Python's hashlib).
TEST_F(Intake, SubmissionsAndAssignmentsHashAlike) {
  const fs::path folder = tmp / "tree";
  write_file(folder / "a.py", "x\n");
  write_file(folder / "sub/b.txt", "");
  const std::string expected =
      "sha256:a08d95a0d05244ac65655c8be11010e0631fc09ef84f158d4cab98a7c39812f7";
  EXPECT_EQ(grader::hash_tree(folder), expected);
  EXPECT_EQ(grader::assignment_hash(folder), expected);
  // An assignment's Python caches are not part of it; a submission's staged files have none.
  write_file(folder / "sub/__pycache__/b.cpython-311.pyc", "cache");
  write_file(folder / "c.pyc", "cache");
  EXPECT_EQ(grader::assignment_hash(folder), expected);
  EXPECT_NE(grader::hash_tree(folder), expected);
}

TEST_F(Intake, StagedFilesLoseExecAndSetuidBits) {
  fs::path folder = good_folder();
  fs::permissions(folder / "main.py", fs::perms(04755));
  grader::stage_submission(folder, tmp / "staged", rules());
  EXPECT_EQ(fs::status(tmp / "staged/main.py").permissions(), fs::perms(0644));
}

TEST_F(Intake, HashChangesWithContentAndNamesButIsStable) {
  fs::path folder = good_folder();
  std::string hash = grader::hash_tree(folder);
  EXPECT_EQ(grader::hash_tree(folder), hash);
  write_file(folder / "main.py", "print('hellp')\n");
  std::string changed = grader::hash_tree(folder);
  EXPECT_NE(changed, hash);
  fs::rename(folder / "README.md", folder / "README2.md");
  EXPECT_NE(grader::hash_tree(folder), changed);
}

TEST_F(Intake, SingleWrappingFolderIsUnwrappedAndMacClutterDropped) {
  std::vector<Entry> wrapped = {
      {"hw1/", "", AE_IFDIR}, {"__MACOSX/hw1/._main.py", "junk"}, {"hw1/.DS_Store", "junk"}};
  for (const Entry& e : kGoodEntries) wrapped.push_back({"hw1/" + e.name, e.content});
  make_archive(tmp / "wrapped.zip", Format::Zip, wrapped);
  auto staged = grader::stage_submission(tmp / "wrapped.zip", tmp / "staged", rules());
  EXPECT_TRUE(fs::is_regular_file(tmp / "staged/main.py"));
  EXPECT_FALSE(fs::exists(tmp / "staged/.DS_Store"));
  EXPECT_FALSE(fs::exists(tmp / "staged/__MACOSX"));
  EXPECT_EQ(staged.content_hash, grader::hash_tree(good_folder()));
  EXPECT_EQ(ignored_paths(staged), (std::set<std::string>{".DS_Store", "__MACOSX/"}));
}

TEST_F(Intake, SingleFolderIsKeptWhenTheRequiredPathsNameIt) {
  IntakeRules r = rules();
  r.required = {"src/main.py"};
  make_archive(tmp / "src.zip", Format::Zip, {{"src/main.py", "x"}, {"src/util.py", "y"}});
  grader::stage_submission(tmp / "src.zip", tmp / "staged", r);
  EXPECT_TRUE(fs::is_regular_file(tmp / "staged/src/main.py"));
}

TEST_F(Intake, TarWithDotSlashPrefixesIsAccepted) {
  std::vector<Entry> entries = {{"./", "", AE_IFDIR}};
  for (const Entry& e : kGoodEntries) entries.push_back({"./" + e.name, e.content});
  make_archive(tmp / "dot.tar.gz", Format::TarGz, entries);
  auto staged = grader::stage_submission(tmp / "dot.tar.gz", tmp / "staged", rules());
  EXPECT_EQ(staged.content_hash, grader::hash_tree(good_folder()));
}

TEST_F(Intake, PathTraversalAndAbsolutePathsAreRejected) {
  for (Format format : {Format::Zip, Format::TarGz}) {
    std::string message = rejection(format, {{"main.py", "x"}, {"../evil.py", "x"}});
    EXPECT_NE(message.find("'../evil.py'"), std::string::npos) << message;
    EXPECT_NE(message.find("leaves the submission folder"), std::string::npos) << message;
    message = rejection(format, {{"main.py", "x"}, {"a/../../evil.py", "x"}});
    EXPECT_NE(message.find("'a/../../evil.py'"), std::string::npos) << message;
    message = rejection(format, {{"/tmp/evil.py", "x"}, {"main.py", "x"}});
    EXPECT_NE(message.find("'/tmp/evil.py': absolute path"), std::string::npos) << message;
  }
  EXPECT_FALSE(fs::exists(tmp / "evil.py"));
  EXPECT_FALSE(fs::exists("/tmp/evil.py"));
}

TEST_F(Intake, LinksDevicesAndFifosInArchivesAreRejected) {
  for (Format format : {Format::Zip, Format::TarGz}) {
    std::string message =
        rejection(format, {{"main.py", "x"}, {"shadow.py", "", AE_IFLNK, "/etc/shadow"}});
    EXPECT_NE(message.find("'shadow.py': symbolic link (to '/etc/shadow')"), std::string::npos)
        << message;
  }
  std::string message =
      rejection(Format::TarGz, {{"main.py", "x"}, {"copy.py", "", AE_IFREG, "main.py", true}});
  EXPECT_NE(message.find("'copy.py': hard link"), std::string::npos) << message;
  message = rejection(Format::TarGz, {{"main.py", "x"}, {"pipe", "", AE_IFIFO}});
  EXPECT_NE(message.find("'pipe': FIFO"), std::string::npos) << message;
  message = rejection(Format::Tar, {{"main.py", "x"}, {"tty", "", AE_IFCHR}});
  EXPECT_NE(message.find("'tty': character device"), std::string::npos) << message;
}

TEST_F(Intake, BadNamesAreRejectedAndShownEscaped) {
  for (Format format : {Format::Zip, Format::TarGz}) {
    std::string message = rejection(format, {{"main.py", "x"}, {"bad\xff.py", "x"}});
    EXPECT_NE(message.find("'bad\\xff.py': name is not valid UTF-8"), std::string::npos) << message;
    message = rejection(format, {{"main.py", "x"}, {"bad\nname.py", "x"}});
    EXPECT_NE(message.find("'bad\\x0aname.py': name contains a control character"),
              std::string::npos)
        << message;
    message = rejection(format, {{"main.py", "x"}, {"esc\x1b[2J.py", "x"}});
    EXPECT_NE(message.find("'esc\\x1b[2J.py'"), std::string::npos) << message;
    message = rejection(format, {{"main.py", "x"},
                                 {"csi\xc2\x9b"
                                  "2J.py",
                                  "x"}});
    EXPECT_NE(message.find("'csi\\xc2\\x9b2J.py': name contains a control character"),
              std::string::npos)
        << message;
  }
}

TEST_F(Intake, FilesOutsideTheAllowedPatternsAreNamed) {
  std::string message =
      rejection(Format::Zip, {{"main.py", "x"}, {"evil.exe", "MZ"}, {"data/secret.bin", "x"}});
  EXPECT_NE(message.find("not allowed"), std::string::npos) << message;
  EXPECT_NE(message.find("'evil.exe'"), std::string::npos) << message;
  EXPECT_NE(message.find("'data/secret.bin'"), std::string::npos) << message;
}

TEST_F(Intake, AllMissingRequiredFilesAreNamedInOneMessage) {
  IntakeRules r = rules();
  r.required = {"main.py", "model.py", "train/loop.py"};
  std::string message = rejection(good_folder(), r);
  EXPECT_NE(message.find("missing required file(s): 'model.py', 'train/loop.py'"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("'main.py'"), std::string::npos) << message;
}

TEST_F(Intake, CountAndSizeLimitsAreEnforced) {
  IntakeRules r = rules();
  r.max_files = 3;
  std::string message = rejection(good_folder(), r);
  EXPECT_NE(message.find("more than 3 files (max_files)"), std::string::npos) << message;

  r = rules();
  r.max_bytes = 1000;
  make_archive(tmp / "big.zip", Format::Zip,
               {{"main.py", "x"}, {"big.py", std::string(1001, 'a')}});
  message = rejection(tmp / "big.zip", r);
  EXPECT_NE(message.find("'big.py': submission is larger than 1000 bytes"), std::string::npos)
      << message;

  message = rejection(Format::TarGz, {{"main.py", "x"}, {"main.py", "y"}});
  EXPECT_NE(message.find("'main.py': appears twice"), std::string::npos) << message;

  // Entries that stage nothing are capped too: rules() allows 20 files, so 4 * 20 + 100 entries.
  std::vector<Entry> repeated = {{"main.py", "x"}};
  for (int i = 0; i < 200; ++i) repeated.push_back({"src/", "", AE_IFDIR});
  message = rejection(Format::Tar, repeated);
  EXPECT_NE(message.find("'src': more than 180 entries"), std::string::npos) << message;
}

TEST_F(Intake, ZipBombStopsAtTheCapWithoutExpanding) {
  make_archive(tmp / "bomb.zip", Format::Zip,
               {{"main.py", "x"}, {"zeros.py", "", AE_IFREG, "", false, 50u << 20}});
  ASSERT_LT(fs::file_size(tmp / "bomb.zip"), 1u << 20);

  IntakeRules r = rules();
  r.max_bytes = 2u << 20;
  uint64_t before = bytes_written_by_this_process();
  std::string message = rejection(tmp / "bomb.zip", r);
  uint64_t written = bytes_written_by_this_process() - before;
  EXPECT_NE(message.find("'zeros.py': submission is larger than"), std::string::npos) << message;
  EXPECT_LE(written, r.max_bytes + (256u << 10));

  r.max_bytes = 1u << 30;  // the size cap allows it: the ratio cap must catch it
  before = bytes_written_by_this_process();
  message = rejection(tmp / "bomb.zip", r);
  written = bytes_written_by_this_process() - before;
  EXPECT_NE(message.find("'zeros.py': archive expands more than 100:1"), std::string::npos)
      << message;
  EXPECT_LE(written, 100 * fs::file_size(tmp / "bomb.zip") + (256u << 10));
}

TEST_F(Intake, ClutterIsIgnoredAndNotCountedInFoldersAndArchives) {
  std::vector<Entry> entries = kGoodEntries;
  entries.insert(entries.end(), kClutter.begin(), kClutter.end());
  fs::path folder = tmp / "cluttered";
  for (const Entry& e : entries) write_file(folder / e.name, e.content);
  make_archive(tmp / "c.zip", Format::Zip, entries);
  make_archive(tmp / "c.tar.gz", Format::TarGz, entries);
  IntakeRules r = rules();
  r.max_files = kGoodEntries.size();  // the clutter would not fit, nor be allowed
  const std::string clean = grader::hash_tree(good_folder());
  const std::set<std::string> expected = {
      ".DS_Store",      ".git/",          ".idea/",           ".ipynb_checkpoints/",
      ".pytest_cache/", ".vscode/",       "__MACOSX/",        "__pycache__/",
      "loose.pyc",      "util/.DS_Store", "util/__pycache__/"};
  int n = 0;
  for (const fs::path& source : {folder, tmp / "c.zip", tmp / "c.tar.gz"}) {
    auto staged = grader::stage_submission(source, tmp / ("s" + std::to_string(n++)), r);
    EXPECT_EQ(staged.content_hash, clean) << source;
    EXPECT_EQ(staged.files, kGoodEntries.size()) << source;
    EXPECT_EQ(staged.bytes, 15u + 28u + 16u + 6u + 6u) << source;
    EXPECT_FALSE(fs::exists(staged.dir / ".pytest_cache")) << source;
    EXPECT_FALSE(fs::exists(staged.dir / "util/__pycache__")) << source;
    EXPECT_EQ(ignored_paths(staged), expected) << source;
    for (const auto& entry : staged.ignored) {
      EXPECT_FALSE(entry.what.empty()) << entry.path;
      if (source == folder && entry.path.back() == '/') {
        EXPECT_FALSE(entry.files) << entry.path << ": a folder's clutter is never read";
      } else if (entry.path == ".git/") {
        EXPECT_EQ(entry.files, 2u) << source;
        EXPECT_EQ(entry.bytes, 25u) << source;
      } else if (entry.path == "__pycache__/") {
        EXPECT_EQ(entry.bytes, 300u) << source;
      }
    }
  }
}

TEST_F(Intake, IgnoredEntriesCountTowardTheDecompressionBudget) {
  IntakeRules r = rules();  // max_bytes 1 MiB: budget 1 MiB + 8 MiB
  const uint64_t budget = grader::decompression_budget(r.max_bytes);
  ASSERT_EQ(budget, 9u << 20);
  // Clutter over max_bytes but within the budget: accepted, not counted in the size.
  make_archive(tmp / "ok.tar.gz", Format::TarGz,
               {{"main.py", "x"}, {".git/objects/pack", incompressible(3u << 20)}});
  grader::IntakeStats stats;
  auto staged = grader::stage_submission(tmp / "ok.tar.gz", tmp / "ok", r, &stats);
  EXPECT_EQ(staged.bytes, 1u);
  EXPECT_GE(stats.decompressed_bytes, 3u << 20);

  // Clutter past the budget: rejected, and unpacking stopped at about the budget.
  for (Format format : {Format::TarGz, Format::Zip}) {
    fs::path path = tmp / (format == Format::Zip ? "pad.zip" : "pad.tar.gz");
    make_archive(path, format,
                 {{"main.py", "x"},
                  {"__MACOSX/._pad", incompressible(6u << 20)},
                  {".DS_Store", incompressible(6u << 20)},
                  {"__pycache__/x.pyc", incompressible(6u << 20)}});
    stats = {};
    try {
      grader::stage_submission(path, tmp / "rejected", r, &stats);
      ADD_FAILURE() << path << " was accepted";
    } catch (const IntakeError& e) {
      EXPECT_NE(std::string(e.what()).find("decompression budget"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::to_string(budget)), std::string::npos) << e.what();
    }
    EXPECT_GT(stats.decompressed_bytes, budget) << path;
    EXPECT_LE(stats.decompressed_bytes, budget + (256u << 10)) << path;
    EXPECT_FALSE(fs::exists(tmp / "rejected"));
  }

  // Compressible clutter: the ratio check sees it too, long before the budget.
  make_archive(tmp / "zeros.tar.gz", Format::TarGz,
               {{"main.py", "x"}, {"__MACOSX/._zeros", "", AE_IFREG, "", false, 64u << 20}});
  stats = {};
  std::string message = rejection(tmp / "zeros.tar.gz", r);
  EXPECT_NE(message.find("archive expands more than 100:1"), std::string::npos) << message;
}

TEST_F(Intake, MissingRequiredFileNamesItsNearMisses) {
  IntakeRules r = rules();
  r.allowed = {};
  struct Case {
    std::string present, hint;
  };
  for (const Case& c : std::vector<Case>{
           {"Main.py", "(found 'Main.py': rename it to 'main.py')"},
           {"MAIN.PY", "(found 'MAIN.PY': rename it to 'main.py')"},
           {"main (1).py", "(found 'main (1).py': rename it to 'main.py')"},
           {"main(2).py", "(found 'main(2).py': rename it to 'main.py')"},
           {"main-1.py", "(found 'main-1.py': rename it to 'main.py')"},
           {"main_copy.py", "(found 'main_copy.py': rename it to 'main.py')"},
           {"main - Copy.py", "(found 'main - Copy.py': rename it to 'main.py')"},
           {"src/main.py", "(found 'src/main.py': move it to 'main.py')"},
       }) {
    fs::path folder = tmp / "near";
    fs::remove_all(folder);
    write_file(folder / c.present, "x");
    write_file(folder / "other.py", "y");
    std::string message = rejection(folder, r);
    EXPECT_NE(message.find("missing required file(s): 'main.py' " + c.hint), std::string::npos)
        << message;
  }
  fs::path folder = tmp / "near";
  fs::remove_all(folder);
  write_file(folder / "mainly.py", "x");
  write_file(folder / "main.txt", "x");
  std::string message = rejection(folder, r);
  EXPECT_EQ(message.find("found"), std::string::npos) << message;
}

TEST_F(Intake, TopLevelMetaTomlIsMetadataWhenAsked) {
  fs::path folder = good_folder();
  const std::string clean = grader::hash_tree(folder);
  write_file(folder / "meta.toml", "submitted_at = \"2026-10-02T20:00:00Z\"\n");
  std::string message = rejection(folder, rules());  // a plain intake: a file like any other
  EXPECT_NE(message.find("'meta.toml'"), std::string::npos) << message;
  IntakeRules r = rules();
  r.meta_toml_is_metadata = true;
  auto staged = grader::stage_submission(folder, tmp / "staged", r);
  EXPECT_FALSE(fs::exists(tmp / "staged/meta.toml"));
  EXPECT_EQ(staged.content_hash, clean);
  EXPECT_EQ(ignored_paths(staged), std::set<std::string>{"meta.toml"});
}

TEST_F(Intake, FolderWithLinksOrFifoIsRejectedAndLeftUntouched) {
  fs::path folder = good_folder();
  write_file(tmp / "host-secret.txt", "secret");
  fs::create_symlink(tmp / "host-secret.txt", folder / "data/notes2.txt");
  auto before = snapshot(folder);
  std::string message = rejection(folder, rules());
  EXPECT_NE(message.find("'data/notes2.txt': symbolic link"), std::string::npos) << message;
  EXPECT_EQ(snapshot(folder), before);
  fs::remove(folder / "data/notes2.txt");

  ASSERT_EQ(mkfifo((folder / "pipe.py").c_str(), 0644), 0);
  message = rejection(folder, rules());  // must not block on the FIFO
  EXPECT_NE(message.find("'pipe.py': FIFO"), std::string::npos) << message;
  fs::remove(folder / "pipe.py");

  fs::create_hard_link(tmp / "host-secret.txt", folder / "data/notes3.txt");
  message = rejection(folder, rules());
  EXPECT_NE(message.find("'data/notes3.txt': hard link"), std::string::npos) << message;
  fs::remove(folder / "data/notes3.txt");

  before = snapshot(folder);
  grader::stage_submission(folder, tmp / "staged", rules());
  write_file(tmp / "staged/main.py", "changed");
  EXPECT_EQ(snapshot(folder), before);
}

TEST_F(Intake, DamagedOrUnknownArchivesAreRejected) {
  make_archive(tmp / "cut.tar.gz", Format::TarGz,
               {{"main.py", "x"}, {"big.py", std::string(200000, 'q')}});
  fs::resize_file(tmp / "cut.tar.gz", fs::file_size(tmp / "cut.tar.gz") / 2);
  EXPECT_EQ(rejection(tmp / "cut.tar.gz", rules()).rfind("cut.tar.gz: ", 0), 0u);
  write_file(tmp / "text.zip", "this is not a zip file\n");
  EXPECT_EQ(rejection(tmp / "text.zip", rules()).rfind("text.zip: ", 0), 0u);
  write_file(tmp / "sub.rar", "Rar!");
  EXPECT_NE(rejection(tmp / "sub.rar", rules()).find("a folder, a .zip"), std::string::npos);
}

TEST_F(Intake, ExistingDestinationIsRefused) {
  fs::create_directories(tmp / "staged");
  EXPECT_THROW(grader::stage_submission(good_folder(), tmp / "staged", rules()),
               std::runtime_error);
}

TEST_F(Intake, BoxOutputsCopyOnlyRegularFiles) {
  fs::path box = tmp / "box-out";
  write_file(box / "result.json", "{\"loss\": 0.5}");
  write_file(box / "arrays/w.npy", "NUMPY");
  write_file(tmp / "host-secret.txt", "secret");
  fs::create_symlink(tmp / "host-secret.txt", box / "leak.json");
  fs::create_directory_symlink(tmp, box / "escape");
  ASSERT_EQ(mkfifo((box / "pipe.json").c_str(), 0644), 0);

  auto skipped = grader::copy_box_outputs(box, tmp / "copied", {1 << 20, 10});
  EXPECT_EQ(read_file(tmp / "copied/result.json"), "{\"loss\": 0.5}");
  EXPECT_EQ(read_file(tmp / "copied/arrays/w.npy"), "NUMPY");
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "copied/leak.json")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "copied/escape")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "copied/pipe.json")));
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_EQ(skipped[0], "escape: symbolic link, not copied");
  EXPECT_EQ(skipped[1], "leak.json: symbolic link, not copied");
  EXPECT_EQ(skipped[2], "pipe.json: FIFO, not copied");
}

TEST_F(Intake, BoxOutputsAreCapped) {
  fs::path box = tmp / "box-out";
  write_file(box / "a.json", std::string(600, 'a'));
  write_file(box / "b.json", std::string(600, 'b'));
  try {
    grader::copy_box_outputs(box, tmp / "c1", {1000, 10});
    ADD_FAILURE() << "byte cap not enforced";
  } catch (const IntakeError& e) {
    EXPECT_NE(std::string(e.what()).find("'b.json': outputs are larger than 1000 bytes"),
              std::string::npos)
        << e.what();
  }
  try {
    grader::copy_box_outputs(box, tmp / "c2", {1 << 20, 1});
    ADD_FAILURE() << "file cap not enforced";
  } catch (const IntakeError& e) {
    EXPECT_NE(std::string(e.what()).find("'b.json': more than 1 files"), std::string::npos)
        << e.what();
  }
  for (int i = 0; i < 11; ++i) fs::create_directories(box / "empty" / std::to_string(i));
  EXPECT_THROW(grader::copy_box_outputs(box, tmp / "c4", {1 << 20, 10}), IntakeError);
  fs::create_directory_symlink(box, tmp / "box-link");  // the box folder itself swapped for a link
  EXPECT_THROW(grader::copy_box_outputs(tmp / "box-link", tmp / "c3", {1 << 20, 10}), IntakeError);
}

TEST_F(Intake, CopyTreeKeepsPathsAndExecBitsOnly) {
  fs::path src = tmp / "assignment";
  write_file(src / "hidden/run.sh", "#!/bin/sh\n", fs::perms(04755));
  write_file(src / "hidden/expected/data.json", "{}", fs::perms(0600));
  grader::copy_tree(src, tmp / "copy");
  EXPECT_EQ(fs::status(tmp / "copy/hidden/run.sh").permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(tmp / "copy/hidden/expected/data.json").permissions(), fs::perms(0644));
  EXPECT_EQ(grader::hash_tree(tmp / "copy"), grader::hash_tree(src));
}

}  // namespace
