#include "common/util/logging.h"

#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace epc {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::regex kLine(R"(([IWE])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})\] (.*))");

TEST(LoggerTest, KlogLikeLine) {
  std::ostringstream out;
  Logger log(out);
  log.Info("hello world");
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, kLine)) << lines[0];
  EXPECT_EQ(m[1], "I");
  EXPECT_EQ(m[8], "hello world");
}

TEST(LoggerTest, TimestampIsNowInUtc) {
  std::ostringstream out;
  Logger log(out);
  const auto before = std::chrono::system_clock::now();
  log.Info("x");
  const auto after = std::chrono::system_clock::now();
  std::smatch m;
  std::string line = Lines(out.str()).at(0);
  ASSERT_TRUE(std::regex_match(line, m, kLine)) << line;

  // Rebuild the logged time from the clock's UTC date (the line has no year) and check that it
  // lies between before and after (to the microsecond).
  auto to_micros = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  std::time_t t = std::chrono::system_clock::to_time_t(after);
  std::tm tm{};
  gmtime_r(&t, &tm);
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  const long long logged = static_cast<long long>(timegm(&tm)) * 1'000'000 + std::stoll(m[7]);
  const long long lo = to_micros(before);
  const long long hi = to_micros(after);
  // Around New Year the logged date may belong to the previous year: allow that one case.
  if (logged > hi) GTEST_SKIP() << "year boundary";
  EXPECT_GE(logged, lo - 1);
  EXPECT_LE(logged, hi);
}

TEST(LoggerTest, SeverityLetters) {
  std::ostringstream out;
  Logger log(out);
  log.Info("i");
  log.Warning("w");
  log.Error("e");
  std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, kLine));
  EXPECT_EQ(m[1], "I");
  EXPECT_EQ(m[8], "i");
  ASSERT_TRUE(std::regex_match(lines[1], m, kLine));
  EXPECT_EQ(m[1], "W");
  EXPECT_EQ(m[8], "w");
  ASSERT_TRUE(std::regex_match(lines[2], m, kLine));
  EXPECT_EQ(m[1], "E");
  EXPECT_EQ(m[8], "e");
}

TEST(LoggerTest, Verbosity) {
  std::ostringstream out;
  Logger quiet(out);
  EXPECT_TRUE(quiet.Enabled(0));
  EXPECT_FALSE(quiet.Enabled(1));
  quiet.V(1, "hidden");
  quiet.V(0, "shown");
  std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("] shown"), std::string::npos);

  std::ostringstream out2;
  Logger chatty(out2, 2);
  EXPECT_TRUE(chatty.Enabled(2));
  EXPECT_FALSE(chatty.Enabled(3));
  chatty.V(2, "two");
  chatty.V(3, "three");
  lines = Lines(out2.str());
  ASSERT_EQ(lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, kLine));
  EXPECT_EQ(m[1], "I");
  EXPECT_EQ(m[8], "two");
}

TEST(LoggerTest, TrailingNewlineIsNotDoubledAndEmptyMessageIsALine) {
  std::ostringstream out;
  Logger log(out);
  log.Info("done\n");
  log.Info("");
  std::string text = out.str();
  std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].ends_with("] done")) << lines[0];
  EXPECT_TRUE(lines[1].ends_with("] ")) << lines[1];
  EXPECT_EQ(text.find("\n\n"), std::string::npos);
}

// Counts flushes (pubsync) of the stream.
class CountingBuf : public std::stringbuf {
 public:
  int syncs = 0;

 protected:
  int sync() override {
    ++syncs;
    return std::stringbuf::sync();
  }
};

TEST(LoggerTest, FlushesEveryLine) {
  CountingBuf buf;
  std::ostream out(&buf);
  Logger log(out);
  log.Info("a");
  EXPECT_EQ(buf.syncs, 1);
  log.Error("b");
  EXPECT_EQ(buf.syncs, 2);
}

TEST(LoggerTest, ConcurrentLinesDoNotInterleave) {
  std::ostringstream out;
  Logger log(out);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      const std::string msg = "thread " + std::to_string(t) + " " + std::string(100, 'a' + t);
      for (int i = 0; i < kPerThread; ++i) log.Info(msg);
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int> counts(kThreads, 0);
  for (const std::string& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, kLine)) << line;
    std::string msg = m[8];
    int t = msg[7] - '0';
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    ASSERT_EQ(msg, "thread " + std::to_string(t) + " " + std::string(100, 'a' + t));
    ++counts[t];
  }
  for (int c : counts) EXPECT_EQ(c, kPerThread);
}

}  // namespace
}  // namespace epc
