// remove_tree: trees a box could leave behind, built here with mkdirat/openat (ordinary tools
// cannot make them: their paths pass PATH_MAX), removed completely, as root and as a user.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "grader/box/remove_tree.h"

namespace fs = std::filesystem;

namespace {

// A chain of `depth` folders named `name` below dir, with a file at the bottom. Returns the
// length in bytes of the bottom file's path below dir.
size_t make_chain(const fs::path& dir, int depth, const std::string& name) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  size_t length = 0;
  for (int i = 0; i < depth; ++i) {
    EXPECT_EQ(::mkdirat(fd, name.c_str(), 0755), 0) << i << ": " << std::strerror(errno);
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    EXPECT_GE(next, 0) << i << ": " << std::strerror(errno);
    ::close(fd);
    fd = next;
    length += name.size() + 1;
    if (fd < 0) return length;
  }
  int file = ::openat(fd, "bottom.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(file, 0);
  EXPECT_EQ(::write(file, "x", 1), 1);
  ::close(file);
  ::close(fd);
  return length + std::strlen("bottom.txt");
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

bool gone(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

// Runs body in a child process as an unprivileged uid (when we are root), in a folder that uid
// owns; the child's exit status is the number of failed checks.
int as_user(const fs::path& dir, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0) {
      const uid_t id = 62000 + static_cast<uid_t>(::getppid() % 3000);
      if (::chown(dir.c_str(), id, id) != 0 || ::setgroups(0, nullptr) != 0 ||
          ::setresgid(id, id, id) != 0 || ::setresuid(id, id, id) != 0)
        ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

class RemoveTree : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "test_remove_tree.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    tmp = pattern;
    ::chmod(tmp.c_str(), 0755);
  }
  void TearDown() override {
    if (std::string error = grader::remove_tree(tmp); !error.empty()) ADD_FAILURE() << error;
  }
  fs::path tmp;
};

TEST_F(RemoveTree, TreeDeeperThanTheOpenFileLimitGoesCompletely) {
  // On a tmpfs where there is one: on this VM's disk, making and removing 30000 folders costs
  // some 40 s of waiting on the journal (rm -rf takes as long), not of our walk.
  fs::path base =
      fs::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : tmp;
  fs::path root = base / ("test_remove_tree-deep-" + std::to_string(::getpid()));
  fs::create_directory(root);
  size_t length = make_chain(root, 30000, "d");
  ASSERT_GT(length, 4096u * 10);
  EXPECT_EQ(grader::remove_tree(root), "");
  EXPECT_TRUE(gone(root));
}

TEST_F(RemoveTree, PathLongerThanPathMaxGoesCompletely) {
  fs::path root = tmp / "long";
  fs::create_directory(root);
  size_t length = make_chain(root, 24, std::string(250, 'n'));
  ASSERT_GT(length, 4096u);
  EXPECT_EQ(grader::remove_tree(root), "");
  EXPECT_TRUE(gone(root));
}

TEST_F(RemoveTree, LinksAreRemovedNeverFollowed) {
  write_file(tmp / "outside/keep.txt", "keep");
  fs::path root = tmp / "tree";
  fs::create_directories(root / "sub");
  fs::create_directory_symlink(tmp / "outside", root / "sub/to-folder");
  fs::create_symlink(tmp / "outside/keep.txt", root / "to-file");
  fs::create_directory_symlink(tmp / "outside", tmp / "link-root");
  EXPECT_EQ(grader::remove_tree(root), "");
  EXPECT_TRUE(gone(root));
  EXPECT_EQ(grader::remove_tree(tmp / "link-root"), "");  // the link itself, not its target
  EXPECT_TRUE(gone(tmp / "link-root"));
  std::ifstream in(tmp / "outside/keep.txt");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "keep");
}

TEST_F(RemoveTree, MissingPathIsSuccessAndRootIsRefused) {
  EXPECT_EQ(grader::remove_tree(tmp / "never-made"), "");
  EXPECT_NE(grader::remove_tree("/"), "");
  EXPECT_TRUE(fs::exists("/"));
}

// Folders chmod'ed shut: 000 (no listing, no entering), 0500 (no removing inside), 0300 (no
// listing), also the root itself; the walk opens them up, as root and as their owner.
void make_shut_tree(const fs::path& root) {
  write_file(root / "closed/a.txt", "a");
  write_file(root / "closed/inner/b.txt", "b");
  write_file(root / "readonly/c.txt", "c");
  write_file(root / "unlistable/d.txt", "d");
  make_chain(root / "closed/inner", 50, "deeper");
  ::chmod((root / "closed/inner").c_str(), 0);
  ::chmod((root / "closed").c_str(), 0);
  ::chmod((root / "readonly").c_str(), 0500);
  ::chmod((root / "unlistable").c_str(), 0300);
  ::chmod(root.c_str(), 0500);
}

TEST_F(RemoveTree, FoldersWithModeZeroGoAsRoot) {
  fs::path root = tmp / "shut";
  make_shut_tree(root);
  EXPECT_EQ(grader::remove_tree(root), "");
  EXPECT_TRUE(gone(root));
}

TEST_F(RemoveTree, FoldersWithModeZeroGoAsTheirOwner) {
  fs::path dir = tmp / "user";
  fs::create_directory(dir);
  int failures = as_user(dir, [&] {
    fs::path root = dir / "shut";
    make_shut_tree(root);
    struct stat st {};
    int bad = ::stat((root / "closed").c_str(), &st) != 0 || (st.st_mode & 07777) != 0;
    std::string error = grader::remove_tree(root);
    if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
    return bad + !error.empty() + !gone(root);
  });
  EXPECT_EQ(failures, 0);
}

TEST_F(RemoveTree, WhatCannotGoIsNamedAndTheRestGoes) {
  // A folder owned by root inside a user's tree: the user can neither empty nor open it up.
  fs::path dir = tmp / "user";
  fs::create_directory(dir);
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a folder the user cannot remove";
  write_file(dir / "tree/foreign/locked.txt", "x");
  write_file(dir / "tree/other/fine.txt", "y");
  int failures = as_user(dir, [&] { return 0; });  // chowns dir to the user
  ASSERT_EQ(failures, 0);
  const uid_t id = 62000 + static_cast<uid_t>(::getpid() % 3000);
  ASSERT_EQ(::chown((dir / "tree").c_str(), id, id), 0);
  ASSERT_EQ(::chown((dir / "tree/other").c_str(), id, id), 0);
  ASSERT_EQ(::chown((dir / "tree/other/fine.txt").c_str(), id, id), 0);
  failures = as_user(dir, [&] {
    std::string error = grader::remove_tree(dir / "tree");
    int bad = error.find((dir / "tree/foreign/locked.txt").string()) == std::string::npos;
    bad += error.find("Permission denied") == std::string::npos;
    bad += !gone(dir / "tree/other");
    if (bad) std::fprintf(stderr, "%s\n", error.c_str());
    return bad;
  });
  EXPECT_EQ(failures, 0);
  EXPECT_TRUE(fs::exists(dir / "tree/foreign/locked.txt"));
}

TEST_F(RemoveTree, MountPointsInsideAreLeftAndNamed) {
  fs::path root = tmp / "mounted";
  fs::create_directories(root / "m");
  write_file(root / "plain.txt", "x");
  if (::mount("tmpfs", (root / "m").c_str(), "tmpfs", 0, "size=1M") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  write_file(root / "m/on-the-mount.txt", "kept");
  std::string error = grader::remove_tree(root);
  EXPECT_NE(error.find((root / "m").string() + ": a mount point"), std::string::npos) << error;
  EXPECT_TRUE(fs::exists(root / "m/on-the-mount.txt"));
  EXPECT_TRUE(gone(root / "plain.txt"));
  ASSERT_EQ(::umount((root / "m").c_str()), 0);
  EXPECT_EQ(grader::remove_tree(root), "");
}

}  // namespace
