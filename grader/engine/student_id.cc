// See student_id.h.
#include "grader/engine/student_id.h"

#include <fmt/format.h>

#include "grader/engine/errors.h"

namespace grader {
namespace {

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_id_char(unsigned char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
}

std::string describe(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return fmt::format("a control character (\\x{:02x})", c);
  if (c >= 0x80) return "a non-ASCII byte";
  if (c == ' ') return "a space";
  if (c == '/' || c == '\\') return fmt::format("a path separator ('{}')", static_cast<char>(c));
  return fmt::format("'{}'", static_cast<char>(c));
}

// The value as it may appear in a message: bytes a terminal would act on are escaped.
std::string escaped(std::string_view id) {
  std::string out;
  for (unsigned char c : id.substr(0, 2 * kMaxStudentIdBytes)) {
    if (c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return id.size() > 2 * kMaxStudentIdBytes ? out + "..." : out;
}

}  // namespace

std::optional<std::string> student_id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > kMaxStudentIdBytes)
    return fmt::format("is {} bytes long (at most {})", id.size(), kMaxStudentIdBytes);
  if (!is_alnum(static_cast<unsigned char>(id[0])))
    return fmt::format("starts with {}", describe(static_cast<unsigned char>(id[0])));
  for (size_t i = 1; i < id.size(); ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (!is_id_char(c)) return fmt::format("has {} at byte {}", describe(c), i + 1);
  }
  return std::nullopt;
}

void check_student_id(std::string_view id, std::string_view source) {
  std::optional<std::string> problem = student_id_problem(id);
  if (!problem) return;
  std::string safe = safe_student_id(id);
  throw InputError(fmt::format(
      "{}: student id '{}' is not usable: it {}; an id is 1-{} ASCII letters, digits and . _ @ "
      "+ -, starting with a letter or digit{}",
      source, escaped(id), *problem, kMaxStudentIdBytes,
      safe.empty() ? "" : fmt::format(" (try '{}')", safe)));
}

std::string safe_student_id(std::string_view text) {
  std::string out;
  bool ends_replaced = false;  // the last '_' stands for other characters, not for itself
  for (unsigned char c : text) {
    if (out.empty() && !is_alnum(c)) continue;  // the first byte must be a letter or digit
    if (is_id_char(c)) {
      out += static_cast<char>(c);
      ends_replaced = false;
    } else if (out.back() != '_') {
      out += '_';
      ends_replaced = true;
    }
  }
  if (out.size() > kMaxStudentIdBytes) {
    out.resize(kMaxStudentIdBytes);
    ends_replaced = false;
  }
  // "ada!" -> "ada", but an id that keeps the rule ("ada_") stays itself.
  if (ends_replaced) out.pop_back();
  return out;
}

}  // namespace grader
