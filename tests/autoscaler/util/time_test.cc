// common/util/time.h, tested here because the autoscaler is its first user.
#include "common/util/time.h"

#include <chrono>

#include <gtest/gtest.h>

namespace epc {
namespace {

using std::chrono::seconds;

TEST(Rfc3339, Parses) {
  auto t = ParseRfc3339("2025-04-23T10:00:00Z");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->time_since_epoch(), seconds(1745402400));
  auto micro = ParseRfc3339("2025-04-23T10:00:00.123456Z");
  ASSERT_TRUE(micro.ok());
  EXPECT_EQ(*micro - *t, std::chrono::microseconds(123456));
  auto offset = ParseRfc3339("2025-04-23T12:00:00+02:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, *t);
  auto epoch = ParseRfc3339("1970-01-01T00:00:00Z");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->time_since_epoch().count(), 0);
}

TEST(Rfc3339, Rejects) {
  for (const char* s :
       {"", "2025-04-23", "2025-04-23T10:00:00", "2025-13-01T00:00:00Z", "2025-04-23T10:00:00.Z",
        "2025-04-23T10:00:00Zjunk", "yesterday", "2025-04-23T10:00:00+0200"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(ParseRfc3339(s).ok());
  }
}

TEST(Rfc3339, FormatsRoundTrip) {
  auto t = ParseRfc3339("2025-04-23T10:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2025-04-23T10:00:00Z");
  EXPECT_EQ(FormatRfc3339(*t + std::chrono::milliseconds(999)), "2025-04-23T10:00:00Z");
}

TEST(GoDuration, Parses) {
  EXPECT_EQ(*ParseGoDuration("15s"), seconds(15));
  EXPECT_EQ(*ParseGoDuration("1m0s"), seconds(60));
  EXPECT_EQ(*ParseGoDuration("1h2m3.5s"), std::chrono::milliseconds(3723500));
  EXPECT_EQ(*ParseGoDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("10us"), std::chrono::microseconds(10));
  EXPECT_EQ(*ParseGoDuration("-15s"), seconds(-15));
  EXPECT_EQ(*ParseGoDuration("0"), seconds(0));
}

TEST(GoDuration, Rejects) {
  for (const char* s : {"", "15", "s", "1x", "1.s.", "--1s"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(ParseGoDuration(s).ok());
  }
}

TEST(UnixSeconds, RoundTrip) {
  const auto t = FromUnixSeconds(1714000000.5);
  EXPECT_DOUBLE_EQ(ToUnixSeconds(t), 1714000000.5);
}

}  // namespace
}  // namespace epc
