#include "grader/course/patch.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace grader::patch {
namespace {

constexpr size_t kContext = 3;
// The LCS table of one file's changed middle: 64 MiB. Variants are a few hundred lines.
constexpr size_t kMaxCells = size_t{16} << 20;
constexpr std::string_view kNoNewline = "\\ No newline at end of file";

// A text's lines, each with its '\n' (the last one may have none).
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

enum class Op : char { Keep = ' ', Remove = '-', Add = '+' };

// One step of the edit script; `a` and `b` are the positions in the old and new lines.
struct Edit {
  Op op;
  size_t a, b;
};

// A shortest edit script from a longest common subsequence of the lines between the common
// prefix and suffix.
std::vector<Edit> edit_script(const std::vector<std::string>& a, const std::vector<std::string>& b,
                              const std::string& path) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  const size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
  if ((n + 1) * (m + 1) > kMaxCells)
    throw PatchError(fmt::format("{}: too many changed lines to diff ({} and {})", path, n, m));
  std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      at(i, j) = a[prefix + i] == b[prefix + j] ? at(i + 1, j + 1) + 1
                                                : std::max(at(i + 1, j), at(i, j + 1));
  std::vector<Edit> script;
  for (size_t k = 0; k < prefix; ++k) script.push_back({Op::Keep, k, k});
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
      script.push_back({Op::Keep, prefix + i++, prefix + j++});
    } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
      script.push_back({Op::Remove, prefix + i++, prefix + j});
    } else {
      script.push_back({Op::Add, prefix + i, prefix + j++});
    }
  }
  for (size_t k = 0; k < suffix; ++k) script.push_back({Op::Keep, prefix + n + k, prefix + m + k});
  return script;
}

// One hunk's text for the edits [first, end) of the script.
std::string format_hunk(const std::vector<Edit>& script, size_t first, size_t end,
                        const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t old_count = 0, new_count = 0;
  std::string body;
  for (size_t k = first; k < end; ++k) {
    const Edit& e = script[k];
    const std::string& line = e.op == Op::Add ? b[e.b] : a[e.a];
    old_count += e.op != Op::Add;
    new_count += e.op != Op::Remove;
    body += static_cast<char>(e.op);
    body += line;
    if (line.empty() || line.back() != '\n') body += fmt::format("\n{}\n", kNoNewline);
  }
  // A side with no lines names the line before the hunk (0 at the top), as `diff -u` does.
  const size_t old_start = script[first].a + (old_count ? 1 : 0);
  const size_t new_start = script[first].b + (new_count ? 1 : 0);
  return fmt::format("@@ -{},{} +{},{} @@\n", old_start, old_count, new_start, new_count) + body;
}

std::string format_hunks(const std::vector<Edit>& script, const std::vector<std::string>& a,
                         const std::vector<std::string>& b) {
  std::string out;
  for (size_t k = 0; k < script.size();) {
    while (k < script.size() && script[k].op == Op::Keep) ++k;
    if (k == script.size()) break;
    // Changes closer than twice the context share a hunk.
    size_t last = k;
    for (size_t j = k + 1; j < script.size() && j - last <= 2 * kContext + 1; ++j)
      if (script[j].op != Op::Keep) last = j;
    const size_t first = k > kContext ? k - kContext : 0;
    const size_t end = std::min(script.size(), last + kContext + 1);
    out += format_hunk(script, first, end, a, b);
    k = end;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A header's path: "" for /dev/null; else without diff's tab and time stamp and without its
// first folder, as `patch -p1` reads it (git's a/ and b/, or `diff -ru solution/ variant/`).
std::string header_path(std::string_view field, size_t line_no) {
  field = field.substr(0, field.find('\t'));
  if (field == "/dev/null") return "";
  if (const size_t slash = field.find('/'); slash != std::string_view::npos && slash > 0)
    field.remove_prefix(slash + 1);
  std::string path(field);
  bool escapes = path.empty() || path.front() == '/';
  for (size_t start = 0; !escapes && start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = std::string_view(path).substr(start, end - start);
    escapes = part.empty() || part == "." || part == "..";
    start = end + 1;
  }
  if (escapes)
    throw PatchError(fmt::format("line {}: the path '{}' is not a plain relative path", line_no,
                                 std::string(field)));
  return path;
}

// "@@ -a,b +c,d @@ ..." (a count left out is 1).
Hunk parse_hunk_header(std::string_view line, size_t line_no) {
  Hunk h;
  auto number = [&](size_t& at, size_t& out) {
    size_t start = at;
    out = 0;
    while (at < line.size() && line[at] >= '0' && line[at] <= '9' && at - start < 9)
      out = out * 10 + static_cast<size_t>(line[at++] - '0');
    return at > start;
  };
  auto range = [&](size_t& at, char sign, size_t& start, size_t& count) {
    if (at >= line.size() || line[at++] != sign || !number(at, start)) return false;
    count = 1;
    if (at < line.size() && line[at] == ',') return number(++at, count);
    return true;
  };
  size_t at = 3;
  if (!range(at, '-', h.old_start, h.old_count) || at >= line.size() || line[at++] != ' ' ||
      !range(at, '+', h.new_start, h.new_count) || line.substr(at, 3) != " @@")
    throw PatchError(fmt::format("line {}: unreadable hunk header '{}'", line_no,
                                 std::string(line.substr(0, 80))));
  return h;
}

// The hunk whose header is lines[i]; leaves i after its last line.
Hunk parse_hunk(const std::vector<std::string_view>& lines, size_t& i) {
  const size_t header_no = i + 1;
  Hunk h = parse_hunk_header(lines[i++], header_no);
  size_t old_left = h.old_count, new_left = h.new_count;
  auto mark_missing_newline = [&](size_t line_no) {
    if (h.lines.empty())
      throw PatchError(fmt::format("line {}: '{}' before any line", line_no, kNoNewline));
    const char last = h.lines.back()[0];
    h.old_missing_newline |= last != '+';
    h.new_missing_newline |= last != '-';
  };
  while (old_left > 0 || new_left > 0) {
    if (i >= lines.size())
      throw PatchError(fmt::format("line {}: the hunk ends early ({} old and {} new lines missing)",
                                   header_no, old_left, new_left));
    std::string_view line = lines[i++];
    const char kind = line.empty() ? ' ' : line[0];  // an editor may strip a blank context line
    if (kind == '\\') {
      mark_missing_newline(i);
      continue;
    }
    size_t& left = kind == '+' ? new_left : old_left;
    if ((kind != ' ' && kind != '-' && kind != '+') || left == 0 || (kind == ' ' && new_left == 0))
      throw PatchError(fmt::format("line {}: does not fit the hunk of line {}", i, header_no));
    left--;
    if (kind == ' ') new_left--;
    h.lines.push_back(line.empty() ? std::string(" ") : std::string(line));
  }
  if (i < lines.size() && starts_with(lines[i], "\\")) {
    mark_missing_newline(i + 1);
    ++i;
  }
  return h;
}

// The hunk's old or new lines as they are in the file, each with its '\n'.
std::vector<std::string> side_of(const Hunk& h, char dropped, bool missing_newline) {
  std::vector<std::string> side;
  for (const std::string& line : h.lines)
    if (line[0] != dropped) side.push_back(line.substr(1) + "\n");
  if (missing_newline && !side.empty()) side.back().pop_back();
  return side;
}

// Where `want` lines start in `lines`, at or after `from`, nearest to `near`.
std::optional<size_t> find_lines(const std::vector<std::string>& lines,
                                 const std::vector<std::string>& want, size_t from, size_t near) {
  if (want.size() > lines.size() - std::min(from, lines.size())) return std::nullopt;
  const size_t last = lines.size() - want.size();
  auto matches = [&](size_t at) {
    return std::equal(want.begin(), want.end(), lines.begin() + static_cast<std::ptrdiff_t>(at));
  };
  near = std::clamp(near, from, last);
  for (size_t d = 0; near + d <= last || near >= from + d; ++d) {
    if (near + d <= last && matches(near + d)) return near + d;
    if (d > 0 && near >= from + d && matches(near - d)) return near - d;
  }
  return std::nullopt;
}

}  // namespace

std::string diff(const std::string& path, const std::optional<std::string>& before,
                 const std::optional<std::string>& after) {
  if (before == after) return "";
  const std::vector<std::string> a = split_lines(before.value_or(""));
  const std::vector<std::string> b = split_lines(after.value_or(""));
  std::string out = fmt::format("--- {}\n+++ {}\n", before ? "a/" + path : "/dev/null",
                                after ? "b/" + path : "/dev/null");
  return out + format_hunks(edit_script(a, b, path), a, b);
}

std::vector<FileDiff> parse(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<FileDiff> files;
  for (size_t i = 0; i < lines.size();) {
    if (!starts_with(lines[i], "--- ") || i + 1 >= lines.size() ||
        !starts_with(lines[i + 1], "+++ ")) {
      ++i;
      continue;
    }
    FileDiff f;
    f.old_path = header_path(lines[i].substr(4), i + 1);
    f.new_path = header_path(lines[i + 1].substr(4), i + 2);
    if (f.old_path.empty() && f.new_path.empty())
      throw PatchError(fmt::format("line {}: both sides are /dev/null", i + 1));
    if (!f.old_path.empty() && !f.new_path.empty() && f.old_path != f.new_path)
      throw PatchError(fmt::format("line {}: renames ('{}' to '{}') are not supported", i + 1,
                                   f.old_path, f.new_path));
    i += 2;
    while (i < lines.size() && starts_with(lines[i], "@@ "))
      f.hunks.push_back(parse_hunk(lines, i));
    files.push_back(std::move(f));
  }
  return files;
}

std::optional<std::string> apply(const FileDiff& change, const std::optional<std::string>& before) {
  const std::string path = change.path();
  if (change.old_path.empty() && before)
    throw PatchError(fmt::format("{}: the patch creates it, but it exists", path));
  if (!change.old_path.empty() && !before)
    throw PatchError(fmt::format("{}: the patch changes it, but it does not exist", path));
  const std::vector<std::string> lines = split_lines(before.value_or(""));
  std::string out;
  size_t pos = 0;
  std::ptrdiff_t offset = 0;  // how far the hunks so far were found from their stated lines
  for (size_t n = 0; n < change.hunks.size(); ++n) {
    const Hunk& h = change.hunks[n];
    const std::vector<std::string> old_side = side_of(h, '+', h.old_missing_newline);
    const size_t stated = h.old_count ? h.old_start - 1 : h.old_start;
    const auto near = static_cast<size_t>(
        std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(stated) + offset));
    const std::optional<size_t> at = find_lines(lines, old_side, pos, near);
    if (!at)
      throw PatchError(fmt::format(
          "{}: hunk {} of {} (@@ -{},{} +{},{} @@) does not apply: its old lines are not in the "
          "file",
          path, n + 1, change.hunks.size(), h.old_start, h.old_count, h.new_start, h.new_count));
    for (size_t k = pos; k < *at; ++k) out += lines[k];
    for (const std::string& line : side_of(h, '-', h.new_missing_newline)) out += line;
    pos = *at + old_side.size();
    offset = static_cast<std::ptrdiff_t>(*at) - static_cast<std::ptrdiff_t>(stated);
  }
  for (size_t k = pos; k < lines.size(); ++k) out += lines[k];
  if (!change.new_path.empty()) return out;
  if (!out.empty())
    throw PatchError(
        fmt::format("{}: the patch deletes it, but lines are left after its hunks", path));
  return std::nullopt;
}

}  // namespace grader::patch
