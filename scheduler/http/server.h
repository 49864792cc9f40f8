// ExtenderServer: the HTTP(S) face of the extender (cpp-httplib).
//
//   POST <prefix>/filter | /prioritize | /preempt | /bind (bind only when enabled)
//   GET  /healthz, /readyz, /metrics (Prometheus text), /version (JSON)
//
// kube-scheduler treats any status but 200 as a failure of the whole scheduling attempt, so a
// problem with one node is answered 200 with that node failed; only a request that cannot be
// understood gets a 4xx. Every non-200 answer is JSON {"error": "..."}, logged and counted.
// Bad input never crashes or wedges the server: exceptions stop at the handler boundary (500).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/config/config.h"
#include "common/util/logging.h"
#include "common/util/result.h"
#include "scheduler/extender/extender.h"
#include "scheduler/http/metrics.h"
#include "scheduler/wire/extender_args.h"

namespace httplib {
class Server;
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace epc {

class ExtenderServer {
 public:
  ExtenderServer(ExtenderConfig config, Extender& extender, ExtenderMetrics& metrics, Logger& log);
  ~ExtenderServer();
  ExtenderServer(const ExtenderServer&) = delete;
  ExtenderServer& operator=(const ExtenderServer&) = delete;

  // Creates the listening socket on config.bind_address:config.port (port 0: any free port).
  // Returns the port. Errors name the address and, for TLS, the file that failed.
  Result<int> Bind();
  // Serves until Stop(); call after Bind().
  void Serve();
  // Bind(), then Serve() on a thread of its own; returns once the server accepts connections.
  Result<int> Start();
  // Stops accepting, finishes requests in flight, joins the thread Start() made. Idempotent;
  // safe from any thread except a handler's.
  void Stop();

  int port() const { return port_; }
  bool tls() const { return config_.tls.enabled(); }
  // /readyz answers 200 while this returns "" (default: always), else 503 with the reason.
  void set_readiness(std::function<std::string()> ready) { ready_ = std::move(ready); }
  // Where GET /explain/<namespace>/<pod> finds pods; without it /explain answers 404.
  using PodLookup = std::function<Result<Pod>(const std::string& ns, const std::string& name)>;
  void set_pod_lookup(PodLookup lookup) { pod_lookup_ = std::move(lookup); }

 private:
  struct Route;
  void Dispatch(const std::string& method, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader);
  void HandleVerb(const Route& route, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader* reader);
  void Fail(httplib::Response& res, std::string_view route, int status, std::string_view reason,
            std::string_view message, const httplib::Request& req);
  void Install();

  ExtenderConfig config_;
  Extender& extender_;
  ExtenderMetrics& metrics_;
  Logger& log_;
  void HandleExplain(const httplib::Request& req, httplib::Response& res);

  std::function<std::string()> ready_;
  PodLookup pod_lookup_;
  // Full-mode bodies (tens of MB) are read into kept storage: see RequestBufferPool.
  RequestBufferPool body_pool_;
  std::unique_ptr<httplib::Server> server_;
  std::vector<Route> routes_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace epc
