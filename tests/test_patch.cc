// grader/course/patch.h: the unified diffs that store variants and samples. Table tests: every diff
// applies back to its `after`, hunks that moved still apply, and a patch that no longer fits
// fails with the file and hunk named.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "grader/course/patch.h"

namespace {

namespace patch = grader::patch;
using grader::patch::diff;
using grader::patch::FileDiff;
using grader::patch::parse;
using grader::patch::PatchError;
using Text = std::optional<std::string>;

std::string numbered(int from, int to, const std::string& tag = "line") {
  std::string out;
  for (int i = from; i <= to; ++i) out += tag + " " + std::to_string(i) + "\n";
  return out;
}

// The one file's change of a diff, parsed back.
FileDiff only_change(const std::string& text) {
  std::vector<FileDiff> changes = parse(text);
  EXPECT_EQ(changes.size(), 1u) << text;
  return changes.empty() ? FileDiff{} : changes[0];
}

struct RoundTrip {
  const char* what;
  Text before, after;
};

TEST(Patch, EveryDiffAppliesBackToItsAfter) {
  const std::string body = numbered(1, 40);
  std::string middle_changed = body;
  middle_changed.replace(middle_changed.find("line 20\n"), 8, "LINE twenty\n");
  const std::vector<RoundTrip> cases = {
      {"one line changed in the middle", body, middle_changed},
      {"lines added at the top", body, "new 1\nnew 2\n" + body},
      {"lines added at the end", body, body + "tail\n"},
      {"lines removed at both ends", body, numbered(5, 35)},
      {"two changes far apart (two hunks)", body, "first\n" + numbered(2, 39) + "last\n"},
      {"two changes close together (one hunk)", body,
       numbered(1, 9) + "x\n" + numbered(11, 14) + "y\n" + numbered(16, 40)},
      {"everything replaced", body, numbered(1, 10, "other")},
      {"a file created", std::nullopt, "print('hi')\n"},
      {"a file deleted", body, std::nullopt},
      {"an empty file created", std::nullopt, ""},
      {"the newline at the end removed", "a\nb\n", "a\nb"},
      {"the newline at the end added", "a\nb", "a\nb\n"},
      {"a file without a final newline changed elsewhere", "a\nb\nc\nd\ne\nf\ng\nlast",
       "A\nb\nc\nd\ne\nf\ng\nlast"},
      {"the last line of a file without a final newline changed", "a\nb", "a\nc"},
      {"blank lines and trailing spaces", "def f():\n\n    return 1  \n\n",
       "def f():\n\n    return 2  \n\n"},
      {"a line that starts like a header", "--- x\n+++ y\n@@ z\n", "--- x\n+++ Y\n@@ z\n"},
  };
  for (const RoundTrip& c : cases) {
    const std::string text = diff("dir/f.py", c.before, c.after);
    ASSERT_FALSE(text.empty()) << c.what;
    const FileDiff change = only_change(text);
    EXPECT_EQ(change.path(), "dir/f.py") << c.what;
    EXPECT_EQ(patch::apply(change, c.before), c.after) << c.what << "\n" << text;
  }
}

TEST(Patch, NoChangeIsNoDiff) {
  EXPECT_EQ(diff("f", "a\n", "a\n"), "");
  EXPECT_EQ(diff("f", std::nullopt, std::nullopt), "");
}

TEST(Patch, DiffsLookLikeDiffU) {
  EXPECT_EQ(diff("f.py", "a\nb\nc\n", "a\nB\nc\n"),
            "--- a/f.py\n+++ b/f.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  EXPECT_EQ(diff("n.py", std::nullopt, "x\n"), "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1,1 @@\n+x\n");
  EXPECT_EQ(diff("f", "a", "b"),
            "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n"
            "\\ No newline at end of file\n");
}

TEST(Patch, HunksStillApplyWhereTheSolutionMovedLines) {
  const std::string before = numbered(1, 30);
  std::string after = before;
  after.replace(after.find("line 15\n"), 8, "changed\n");
  const FileDiff change = only_change(diff("f", before, after));
  // The solution gained 5 lines at the top and lost 2 near the end since the patch was made.
  const std::string moved = numbered(1, 5, "header") + numbered(1, 26) + numbered(29, 30);
  std::string expected = moved;
  expected.replace(expected.find("line 15\n"), 8, "changed\n");
  EXPECT_EQ(patch::apply(change, moved), expected);
}

TEST(Patch, APatchThatNoLongerFitsNamesTheFileAndHunk) {
  const std::string before = numbered(1, 30);
  std::string after = before;
  after.replace(after.find("line 15\n"), 8, "changed\n");
  const FileDiff change = only_change(diff("pkg/f.py", before, after));
  std::string edited = before;
  edited.replace(edited.find("line 14\n"), 8, "line fourteen\n");  // a context line changed
  try {
    patch::apply(change, edited);
    FAIL() << "applied over a changed context line";
  } catch (const PatchError& e) {
    EXPECT_STREQ(e.what(),
                 "pkg/f.py: hunk 1 of 1 (@@ -12,7 +12,7 @@) does not apply: its old lines are "
                 "not in the file");
  }
  EXPECT_THROW(patch::apply(change, std::nullopt), PatchError);  // the file is gone
  const FileDiff creates = only_change(diff("n.py", std::nullopt, "x\n"));
  EXPECT_THROW(patch::apply(creates, "x\n"), PatchError);  // it exists already
  const FileDiff deletes = only_change(diff("n.py", "x\n", std::nullopt));
  EXPECT_THROW(patch::apply(deletes, "x\ny\n"), PatchError);  // lines would be left
}

TEST(Patch, ReadsGitAndDiffUOutput) {
  const std::string git =
      "diff --git a/f.py b/f.py\nindex 1234567..89abcde 100644\n--- a/f.py\n+++ b/f.py\n"
      "@@ -1,2 +1,2 @@ def f():\n-    return 1\n+    return 2\n \n"
      "diff --git a/g.py b/g.py\nnew file mode 100644\n--- /dev/null\n+++ b/g.py\n@@ -0,0 +1 @@\n"
      "+y = 1\n";
  std::vector<FileDiff> changes = parse(git);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(patch::apply(changes[0], "    return 1\n\n"), "    return 2\n\n");
  EXPECT_EQ(changes[1].old_path, "");
  EXPECT_EQ(patch::apply(changes[1], std::nullopt), "y = 1\n");
  const std::string diff_u =
      "--- solution/f.py\t2026-12-01 10:00:00.000000000 +0000\n"
      "+++ variant/f.py\t2026-12-01 10:05:00.000000000 +0000\n@@ -1 +1 @@\n-a\n+b\n";
  ASSERT_EQ(parse(diff_u).size(), 1u);
  EXPECT_EQ(parse(diff_u)[0].path(), "f.py");  // the first folder goes, as with patch -p1
}

TEST(Patch, UnreadablePatchesNameTheLine) {
  struct Bad {
    const char* text;
    const char* message;
  };
  const std::vector<Bad> cases = {
      {"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n", "line 3: the hunk ends early"},
      {"--- a/f\n+++ b/f\n@@ -x +1 @@\n", "line 3: unreadable hunk header"},
      {"--- a/f\n+++ b/f\n@@ -1 +1 @@\n*a\n", "line 4: does not fit the hunk of line 3"},
      {"--- a/../etc/passwd\n+++ b/../etc/passwd\n", "line 1: the path '../etc/passwd'"},
      {"--- /etc/passwd\n+++ /etc/passwd\n", "line 1: the path '/etc/passwd'"},
      {"--- a//etc/passwd\n+++ b//etc/passwd\n", "line 1: the path '/etc/passwd'"},
      {"--- a/x/./y\n+++ b/x/./y\n", "line 1: the path 'x/./y'"},
      {"--- /dev/null\n+++ /dev/null\n", "line 1: both sides are /dev/null"},
      {"--- a/f\n+++ b/g\n", "line 1: renames"},
      {"--- a/f\n+++ b/f\n@@ -1 +1 @@\n\\ No newline at end of file\n", "line 4: '\\ No newline"},
  };
  for (const Bad& c : cases) {
    try {
      parse(c.text);
      ADD_FAILURE() << "parsed: " << c.text;
    } catch (const PatchError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(c.message, 0), 0u) << e.what();
    }
  }
}

}  // namespace
