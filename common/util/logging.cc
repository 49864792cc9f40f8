#include "common/util/logging.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace epc {

void Logger::Write(char severity, std::string_view message) {
  // Format outside the lock: "I1128 15:34:21.123456] message\n", UTC.
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  long fraction = static_cast<long>(micros % 1'000'000);
  if (fraction < 0) {  // before 1970: floor, not truncate
    fraction += 1'000'000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char prefix[80];
  std::snprintf(prefix, sizeof prefix, "%c%02d%02d %02d:%02d:%02d.%06ld] ", severity, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);

  // One line per call: a trailing newline in the message is not doubled.
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  std::string line;
  line.reserve(message.size() + 24);
  line += prefix;
  line += message;
  line += '\n';

  std::lock_guard<std::mutex> lock(mu_);
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  out_.flush();
}

}  // namespace epc
