// common/: the descriptor owner and the UTF-8 decoder, table-tested.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/fd.h"
#include "common/utf8.h"
#include "reports/score.h"

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(Fd, ClosesOnceWhateverOwnsIt) {
  int raw = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(raw, 0);
  {
    common::Fd a(raw);
    common::Fd b(std::move(a));
    EXPECT_FALSE(a.ok());
    EXPECT_EQ(b.get(), raw);
    common::Fd c;
    c = std::move(b);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));

  raw = ::open("/dev/null", O_RDONLY);
  common::Fd d(raw);
  EXPECT_EQ(d.release(), raw);
  d.reset();
  EXPECT_TRUE(is_open(raw));  // released: not closed
  d.reset(raw);
  d.reset();
  EXPECT_FALSE(is_open(raw));
}

struct Utf8Row {
  std::string bytes;
  bool valid;
  uint32_t first_code_point;  // when valid
  size_t first_length;
};

TEST(Utf8, OneDecoderForNamesAndOutput) {
  const Utf8Row rows[] = {
      {"a", true, 'a', 1},
      {"\xC3\xA9", true, 0xE9, 2},              // é
      {"\xE2\x82\xAC", true, 0x20AC, 3},        // €
      {"\xF0\x9F\x98\x80", true, 0x1F600, 4},   // an emoji
      {"\xF4\x8F\xBF\xBF", true, 0x10FFFF, 4},  // the last code point
      {"\xC2\x85", true, 0x85, 2},              // a C1 control is valid UTF-8
      {"\x80", false, 0, 0},                    // a stray continuation byte
      {"\xC3", false, 0, 0},                    // truncated
      {"\xE2\x82", false, 0, 0},                // truncated
      {"\xC0\xAF", false, 0, 0},                // overlong '/'
      {"\xE0\x80\xAF", false, 0, 0},            // overlong '/'
      {"\xED\xA0\x80", false, 0, 0},            // a surrogate
      {"\xF4\x90\x80\x80", false, 0, 0},        // above U+10FFFF
      {"\xF8\x88\x80\x80\x80", false, 0, 0},    // a five-byte form
      {"\xC3\x28", false, 0, 0},                // a bad continuation
      {"ok\xFF", false, 'o', 1},                // valid start, bad later
  };
  for (const Utf8Row& r : rows) {
    SCOPED_TRACE(testing::PrintToString(r.bytes));
    EXPECT_EQ(common::is_valid_utf8(r.bytes), r.valid);
    const auto c = common::utf8_char_at(r.bytes, 0);
    if (r.first_length) {
      ASSERT_TRUE(c);
      EXPECT_EQ(c->code_point, r.first_code_point);
      EXPECT_EQ(c->length, r.first_length);
    } else {
      EXPECT_FALSE(c);
    }
  }
  EXPECT_FALSE(common::utf8_char_at("", 0));
  EXPECT_TRUE(common::is_valid_utf8(""));
}

// reports' printable text decodes with the same function: what it keeps is exactly what
// the decoder accepts, less C1 controls.
TEST(Utf8, PrintableTextKeepsWhatTheDecoderAccepts) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(reports::printable_text("caf\xC3\xA9 \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(reports::printable_text("\xC2\x85"), replacement + replacement);
  EXPECT_EQ(reports::printable_text("\xED\xA0\x80"), replacement + replacement + replacement);
  EXPECT_EQ(reports::printable_text("a\xC3"), "a" + replacement);
  EXPECT_EQ(reports::printable_text("\xC2\xA0"), "\xC2\xA0");  // U+00A0: the first kept
}

}  // namespace
