// The one rule for student ids, wherever they come from (`grade --student`, batch discovery of
// folder and file names, Gradescope and Canvas metadata, the shards `grader merge` folds).
// An id becomes a folder name, a CSV cell, an XML attribute and a word on the console, so it
// holds nothing any of those would act on:
//
//   1 to 128 bytes of ASCII letters, digits and . _ @ + - , the first a letter or a digit.
//
// So: no control characters, no spaces, no '/' or '\', never "." or "..", never a hidden
// folder, never a spreadsheet formula (= + - @ first) or an option (- first).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace grader {

inline constexpr size_t kMaxStudentIdBytes = 128;

// Why `id` breaks the rule ("has a space at byte 4"), or nullopt when it keeps it.
std::optional<std::string> student_id_problem(std::string_view id);

// Throws InputError "<source>: student id '<id, escaped>' is not usable: <problem>; <the rule>
// (try '<safe_student_id(id)>')" when `id` breaks the rule.
void check_student_id(std::string_view id, std::string_view source);

// Any text made into an id that keeps the rule (for names found in folders, archives and
// metadata): each run of other characters becomes one '_', what leads up to the first letter
// or digit goes, and the result is cut to 128 bytes. Empty when nothing usable is left.
std::string safe_student_id(std::string_view text);

}  // namespace grader
