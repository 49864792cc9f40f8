// Plain JSON string text: the byte rule and the block scans built on it.
#include "scheduler/wire/json_text.h"

#include <gtest/gtest.h>

#include <string>

namespace epc::json_text {
namespace {

// For every length up to 40 and every place of one byte JSON gives meaning to (or that is not
// ASCII), PlainPrefix stops exactly there and AllPlain says no; with none, both take it all. A
// byte past the end never counts, whatever it is.
TEST(JsonText, PlainPrefixStopsAtTheFirstByteThatIsNotPlain) {
  const std::string specials("\"\\\x1f\x00\x80\xff\n", 7);
  for (size_t n = 0; n <= 40; ++n) {
    // 16 bytes of readable room past the end, as the scans require; all of them special.
    std::string buffer(n + 16, '"');
    for (size_t i = 0; i < n; ++i) buffer[i] = static_cast<char>('a' + i % 26);
    const char* p = buffer.data();
    EXPECT_EQ(PlainPrefix(p, p + n), n) << n;
    EXPECT_TRUE(AllPlain(std::string_view(p, n))) << n;
    for (size_t at = 0; at < n; ++at) {
      for (char c : specials) {
        std::string text = buffer;
        text[at] = c;
        EXPECT_EQ(PlainPrefix(text.data(), text.data() + n), at) << n << " at " << at;
        EXPECT_FALSE(AllPlain(std::string_view(text.data(), n))) << n << " at " << at;
      }
    }
  }
  EXPECT_TRUE(IsPlain(0x7f));  // DEL goes into a JSON string as it is
  EXPECT_FALSE(IsPlain(0x1f));
}

}  // namespace
}  // namespace epc::json_text
