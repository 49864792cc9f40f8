// Logger: leveled, thread-safe log lines in klog's spirit ("I1128 15:34:21.123456] message").
//
// Owned by a daemon's main() and passed by reference; there is no global logger. Verbosity
// follows Kubernetes' --v: V(2) lines print when --v >= 2.
#pragma once

#include <mutex>
#include <ostream>
#include <string_view>

namespace epc {

class Logger {
 public:
  explicit Logger(std::ostream& out, int verbosity = 0) : out_(out), verbosity_(verbosity) {}

  void Info(std::string_view message) { Write('I', message); }
  void Warning(std::string_view message) { Write('W', message); }
  void Error(std::string_view message) { Write('E', message); }
  // Printed only when verbosity >= level.
  void V(int level, std::string_view message) {
    if (verbosity_ >= level) Write('I', message);
  }
  bool Enabled(int level) const { return verbosity_ >= level; }

 private:
  void Write(char severity, std::string_view message);

  std::mutex mu_;
  std::ostream& out_;
  const int verbosity_;
};

}  // namespace epc
