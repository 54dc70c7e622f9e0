// UTF-8 decoding, written once: intake checks names with it and reports/ makes untrusted
// output printable with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace common {

struct Utf8Char {
  uint32_t code_point;
  size_t length;  // bytes, 1..4
};

// The character that starts at byte `i` of `s`, or nothing where the bytes there are not
// valid UTF-8: a stray continuation byte, a truncated sequence, an overlong form, a surrogate
// or a code point above U+10FFFF.
std::optional<Utf8Char> utf8_char_at(std::string_view s, size_t i);

// True when every byte of `s` belongs to a valid UTF-8 character.
bool is_valid_utf8(std::string_view s);

}  // namespace common
