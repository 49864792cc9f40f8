// ProbeServer: a small HTTP server (cpp-httplib) for the daemon's GET endpoints: /metrics,
// /healthz, /readyz. The daemon's main() owns one per bind address (--metrics-bind-address,
// --health-probe-bind-address; one server when both are the same); handlers are called on the
// server's threads and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "common/util/logging.h"
#include "common/util/result.h"

namespace httplib {
class Server;
}

namespace epc {

struct HostPort {
  std::string host;
  int port = 0;
};

// "0.0.0.0:8080", "127.0.0.1:0", ":8080" (all interfaces), "[::1]:8080". Port 0..65535.
Result<HostPort> ParseBindAddress(const std::string& address);

class ProbeServer {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
  };
  using Handler = std::function<Answer()>;

  explicit ProbeServer(Logger& log);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  // Serves GET and HEAD on `path`. Call before Start().
  void Handle(const std::string& path, Handler handler);
  // Binds `address` and serves on a thread of its own; returns the bound port.
  Result<int> Start(const std::string& address);
  // Stops and joins. Idempotent.
  void Stop();

 private:
  Logger& log_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace epc
