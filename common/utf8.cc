#include "common/utf8.h"

namespace common {

std::optional<Utf8Char> utf8_char_at(std::string_view s, size_t i) {
  if (i >= s.size()) return std::nullopt;
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t length = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xE  ? 3
                        : (c >> 3) == 0x1E ? 4
                                           : 0;
  if (length == 0 || i + length > s.size()) return std::nullopt;
  uint32_t cp = length == 1 ? c : c & (0x7Fu >> length);
  for (size_t k = 1; k < length; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return std::nullopt;
  return Utf8Char{cp, length};
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const std::optional<Utf8Char> c = utf8_char_at(s, i);
    if (!c) return false;
    i += c->length;
  }
  return true;
}

}  // namespace common
