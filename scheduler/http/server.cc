#include "scheduler/http/server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "scheduler/extender/explain.h"
#include "scheduler/http/buffered_server.h"
#include "scheduler/version.h"
#include "scheduler/wire/extender_args.h"
#include "scheduler/wire/extender_results.h"

namespace epc {

enum class RouteKind {
  kFilter,
  kPrioritize,
  kPreempt,
  kBind,
  kHealthz,
  kReadyz,
  kMetrics,
  kVersion
};

struct ExtenderServer::Route {
  std::string path;
  std::string name;  // the `verb` label
  RouteKind kind;
  bool post;  // POST only; otherwise GET and HEAD
};

namespace {

using Clock = std::chrono::steady_clock;

std::string_view OutcomeFor(int status) {
  switch (status) {
    case 200:
      return "ok";
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "error" : "client_error";
  }
}

// The bad-request reason for a decode error, from the decoders' stable message prefixes.
std::string_view DecodeErrorReason(std::string_view message) {
  if (message.rfind("request body is empty", 0) == 0) return "empty_body";
  if (message.rfind("request body is not JSON", 0) == 0) return "not_json";
  if (message.find("invalid JSON") != std::string_view::npos) return "not_json";
  return "invalid_arguments";
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool Readable(const std::string& path) { return std::ifstream(path).good(); }

std::string ClientOf(const httplib::Request& req) {
  return req.remote_addr + ":" + std::to_string(req.remote_port);
}

}  // namespace

ExtenderServer::ExtenderServer(ExtenderConfig config, Extender& extender, ExtenderMetrics& metrics,
                               Logger& log)
    : config_(std::move(config)), extender_(extender), metrics_(metrics), log_(log), ready_([] {
        return std::string();
      }) {
  const std::string& p = config_.url_prefix;
  routes_ = {
      {p + "/filter", "filter", RouteKind::kFilter, true},
      {p + "/prioritize", "prioritize", RouteKind::kPrioritize, true},
      {p + "/preempt", "preempt", RouteKind::kPreempt, true},
      {"/healthz", "healthz", RouteKind::kHealthz, false},
      {"/readyz", "readyz", RouteKind::kReadyz, false},
      {"/metrics", "metrics", RouteKind::kMetrics, false},
      {"/version", "version", RouteKind::kVersion, false},
  };
  if (config_.enable_bind) routes_.push_back({p + "/bind", "bind", RouteKind::kBind, true});
}

ExtenderServer::~ExtenderServer() { Stop(); }

Result<int> ExtenderServer::Bind() {
  if (server_) return Error{"the server is already bound"};
  const TlsConfig& tls = config_.tls;
  if (tls.enabled()) {
    if (tls.key_file.empty())
      return Error{"TLS: extender.tls.certFile is set but extender.tls.keyFile is not"};
    for (const std::string* file : {&tls.cert_file, &tls.key_file, &tls.client_ca_file}) {
      if (!file->empty() && !Readable(*file)) {
        return Error{"TLS: cannot read " + *file + ": " + std::strerror(errno)};
      }
    }
    ERR_clear_error();
    auto ssl = std::make_unique<BufferedSSLServer>(
        tls.cert_file.c_str(), tls.key_file.c_str(),
        tls.client_ca_file.empty() ? nullptr : tls.client_ca_file.c_str());
    if (!ssl->is_valid()) {
      std::string files = "certificate " + tls.cert_file + ", key " + tls.key_file;
      if (!tls.client_ca_file.empty()) files += ", client CA " + tls.client_ca_file;
      return Error{"TLS: cannot load " + files + ": " + OpenSslError()};
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<BufferedServer>();
  }
  Install();

  errno = 0;
  int port = -1;
  if (config_.port == 0) {
    port = server_->bind_to_any_port(config_.bind_address);
  } else if (server_->bind_to_port(config_.bind_address, config_.port)) {
    port = config_.port;
  }
  if (port <= 0) {
    int err = errno;
    server_.reset();
    std::string why = err != 0 ? std::strerror(err) : "cannot bind";
    return Error{"cannot listen on " + config_.bind_address + ":" + std::to_string(config_.port) +
                 ": " + why};
  }
  port_ = port;
  return port;
}

void ExtenderServer::Serve() {
  serving_ = true;
  if (!stop_requested_ && server_) server_->listen_after_bind();
  serving_ = false;
}

Result<int> ExtenderServer::Start() {
  Result<int> port = Bind();
  if (!port) return port;
  thread_ = std::thread([this] { Serve(); });
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    Stop();
    return Error{"the server did not start within 10 s"};
  }
  return port;
}

void ExtenderServer::Stop() {
  stop_requested_ = true;
  if (server_) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (serving_ && !server_->is_running() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

void ExtenderServer::Install() {
  httplib::Server& s = *server_;
  size_t threads = config_.worker_threads > 0 ? static_cast<size_t>(config_.worker_threads) : 1;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same port
  // without an error; only SO_REUSEADDR (restart over TIME_WAIT) is wanted.
  s.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_keep_alive_max_count(1000);
  s.set_payload_max_length(static_cast<size_t>(config_.max_request_body_bytes));

  auto guarded = [this](const std::string& method) {
    return [this, method](const httplib::Request& req, httplib::Response& res) {
      try {
        Dispatch(method, req, res, nullptr);
      } catch (const std::exception& e) {
        Fail(res, "unknown", 500, "exception", std::string("internal error: ") + e.what(), req);
      } catch (...) {
        Fail(res, "unknown", 500, "exception", "internal error", req);
      }
    };
  };
  s.Post(".*", [this](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) {
    try {
      Dispatch("POST", req, res, &reader);
    } catch (const std::exception& e) {
      Fail(res, "unknown", 500, "exception", std::string("internal error: ") + e.what(), req);
    } catch (...) {
      Fail(res, "unknown", 500, "exception", "internal error", req);
    }
  });
  s.Get(".*", guarded("GET"));
  s.Put(".*", guarded("PUT"));
  s.Patch(".*", guarded("PATCH"));
  s.Delete(".*", guarded("DELETE"));
  s.Options(".*", guarded("OPTIONS"));

  // Errors httplib answers itself (a malformed request line, an oversized body on a method we
  // don't serve, an unsupported method): give them the same JSON shape, log and counter.
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        int status = res.status;
        std::string message;
        std::string_view reason;
        switch (status) {
          case 413:
            message = "request body exceeds " + std::to_string(config_.max_request_body_bytes) +
                      " bytes (extender.maxRequestBodyBytes)";
            reason = "too_large";
            break;
          case 414:
            message = "request URI is too long";
            reason = "uri_too_long";
            break;
          case 404:
            message = "no such path \"" + req.path + "\"";
            reason = "unknown_path";
            break;
          default:
            message = "cannot serve this request (HTTP " + std::to_string(status) + ")";
            reason = status >= 500 ? "internal" : "malformed_http";
        }
        Fail(res, "unknown", status, reason, message, req);
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += ": ";
          what += e.what();
        } catch (...) {
        }
        Fail(res, "unknown", 500, "exception", what, req);
      });
}

void ExtenderServer::Fail(httplib::Response& res, std::string_view route, int status,
                          std::string_view reason, std::string_view message,
                          const httplib::Request& req) {
  res.status = status;
  res.body = EncodeErrorBody(message);
  res.set_header("Content-Type", "application/json");
  metrics_.ObserveRequest(route, OutcomeFor(status));
  if (status >= 400 && status < 500) metrics_.CountBadRequest(reason);
  std::string line = std::string(route) + ": " + req.method + " " + req.path + " from " +
                     ClientOf(req) + " -> " + std::to_string(status) + ": " + std::string(message);
  if (status >= 500) {
    log_.Error(line);
  } else {
    log_.Warning(line);
  }
}

void ExtenderServer::Dispatch(const std::string& method, const httplib::Request& req,
                              httplib::Response& res, const httplib::ContentReader* reader) {
  // An unread body would be taken for the next request on a kept-alive connection.
  auto drain = [&] {
    if (reader != nullptr) (*reader)([](const char*, size_t) { return true; });
  };
  if (req.path.rfind("/explain/", 0) == 0) {
    drain();
    if (method != "GET") {
      res.set_header("Allow", "GET, HEAD");
      Fail(res, "explain", 405, "method_not_allowed", "use GET for /explain, not " + req.method,
           req);
      return;
    }
    HandleExplain(req, res);
    return;
  }
  const Route* route = nullptr;
  for (const Route& r : routes_) {
    if (r.path == req.path) {
      route = &r;
      break;
    }
  }
  if (route == nullptr) {
    drain();
    std::string verbs;
    for (const Route& r : routes_) {
      if (!r.post) continue;
      verbs += verbs.empty() ? "" : ", ";
      verbs += r.path;
    }
    Fail(res, "unknown", 404, "unknown_path",
         "no such path \"" + req.path + "\"; the extender serves POST " + verbs +
             " (check urlPrefix in the scheduler's extender configuration) and GET /healthz, "
             "/readyz, /metrics, /version, /explain/<namespace>/<pod>",
         req);
    return;
  }
  bool allowed = route->post ? method == "POST" : (method == "GET" || req.method == "HEAD");
  if (!allowed) {
    drain();
    res.set_header("Allow", route->post ? "POST" : "GET, HEAD");
    Fail(res, route->name, 405, "method_not_allowed",
         std::string(route->post ? "use POST" : "use GET") + " for " + route->path + ", not " +
             req.method,
         req);
    return;
  }

  switch (route->kind) {
    case RouteKind::kHealthz:
      res.set_content("ok", "text/plain");
      metrics_.ObserveRequest(route->name, "ok");
      return;
    case RouteKind::kReadyz:
      if (const std::string why = ready_(); !why.empty()) {
        Fail(res, route->name, 503, "not_ready", "not ready: " + why, req);
        return;
      }
      res.set_content("ok", "text/plain");
      metrics_.ObserveRequest(route->name, "ok");
      return;
    case RouteKind::kMetrics: {
      std::shared_ptr<const ClusterSnapshot> snapshot = extender_.store().Snapshot();
      metrics_.ObserveRequest(route->name, "ok");
      res.body = metrics_.Render(snapshot.get(), extender_.store().pools());
      res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return;
    }
    case RouteKind::kVersion: {
      nlohmann::json v = {{"component", "epc-extender"},
                          {"version", std::string(ExtenderVersion())},
                          {"httplib", CPPHTTPLIB_VERSION}};
      res.set_content(v.dump(), "application/json");
      metrics_.ObserveRequest(route->name, "ok");
      return;
    }
    default:
      HandleVerb(*route, req, res, reader);
  }
}

void ExtenderServer::HandleExplain(const httplib::Request& req, httplib::Response& res) {
  const std::string rest = req.path.substr(std::string_view("/explain/").size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != std::string::npos) {
    Fail(res, "explain", 400, "bad_explain_path",
         "use GET /explain/<namespace>/<pod>, not " + req.path, req);
    return;
  }
  const std::string ns = rest.substr(0, slash);
  const std::string name = rest.substr(slash + 1);
  if (!pod_lookup_) {
    Fail(res, "explain", 404, "pod_not_found", "this extender has no source of pods to explain",
         req);
    return;
  }
  Result<Pod> pod = pod_lookup_(ns, name);
  if (!pod.ok()) {
    Fail(res, "explain", 404, "pod_not_found", pod.error(), req);
    return;
  }
  const Explanation e = Explain(extender_, pod.value());
  const std::string accept = req.get_header_value("Accept");
  if (accept.find("text/plain") != std::string::npos &&
      accept.find("application/json") == std::string::npos) {
    res.set_content(ExplanationText(e), "text/plain; charset=utf-8");
  } else {
    res.set_content(ExplanationJson(e), "application/json");
  }
  metrics_.ObserveRequest("explain", "ok");
}

void ExtenderServer::HandleVerb(const Route& route, const httplib::Request& req,
                                httplib::Response& res, const httplib::ContentReader* reader) {
  const auto start = Clock::now();
  auto observe = [&] {
    metrics_.ObserveDuration(route.name,
                             std::chrono::duration<double>(Clock::now() - start).count());
  };
  const size_t limit = static_cast<size_t>(config_.max_request_body_bytes);

  // Read the body straight into a buffer with simdjson's padding: no second copy.
  RequestBuffer body(&body_pool_);
  const std::string length_header = req.get_header_value("Content-Length");
  size_t length = 0;
  if (!length_header.empty()) {
    std::from_chars(length_header.data(), length_header.data() + length_header.size(), length);
    if (length <= limit) body.Reserve(length);
  }
  // A large filter or prioritize body (full mode) is decoded while it arrives: over a network,
  // most of the decode is done by the time the last byte is in.
  const bool takes_args = route.kind == RouteKind::kFilter || route.kind == RouteKind::kPrioritize;
  std::optional<FullModeStreamDecoder> stream;
  if (takes_args && length >= kSplitDecodeMinBytes && length <= limit)
    stream.emplace(body, length, extender_.node_projection());
  // A body past the limit is read to its end and dropped before the 413, as httplib does for a
  // Content-Length past the limit: a client still sending (a chunked body has no length to be
  // refused by) must see the answer, not a closed connection under its next write; and httplib
  // would keep the connection and parse the body's rest as the next request. Dropped bytes cost
  // no memory; a client that stalls meets the read timeout.
  bool too_large = false;
  bool read = reader != nullptr && (*reader)([&](const char* data, size_t size) {
                if (too_large || body.size() + size > limit) {
                  too_large = true;
                  return true;
                }
                if (stream) {
                  stream->Append(data, size);
                } else {
                  body.Append(data, size);
                }
                return true;
              });
  if (too_large) read = false;
  if (!read && reader != nullptr) {
    observe();
    if (too_large || res.status == 413) {
      Fail(res, route.name, 413, "too_large",
           "request body exceeds " + std::to_string(limit) +
               " bytes; raise extender.maxRequestBodyBytes or lower percentageOfNodesToScore",
           req);
    } else {
      Fail(res, route.name, 400, "unreadable_body", "cannot read the request body", req);
    }
    return;
  }

  auto decode_args = [&] {
    return stream ? stream->Finish() : DecodeExtenderArgs(body, extender_.node_projection());
  };
  std::string answer;
  std::string_view outcome = "ok";
  std::string detail;
  switch (route.kind) {
    case RouteKind::kFilter: {
      Result<ExtenderArgs> args = decode_args();
      if (!args) {
        observe();
        Fail(res, route.name, 400, DecodeErrorReason(args.error()), args.error(), req);
        return;
      }
      FilterOutcome out = extender_.Filter(*args);
      for (const RejectionCount& r : out.rejections) metrics_.CountRejection(r.reason, r.nodes);
      answer = EncodeFilterResult(out.answer);
      size_t total = args->names_mode() ? args->node_names->size() : args->nodes->size();
      size_t passed = out.answer.names_mode ? out.answer.passing_node_names.size()
                                            : out.answer.passing_nodes_json.size();
      detail = "pod " + args->pod.namespace_name + "/" + args->pod.name + ": " +
               std::to_string(passed) + "/" + std::to_string(total) + " nodes passed (" +
               (args->names_mode() ? "names" : "full") + " mode)";
      break;
    }
    case RouteKind::kPrioritize: {
      Result<ExtenderArgs> args = decode_args();
      if (!args) {
        observe();
        Fail(res, route.name, 400, DecodeErrorReason(args.error()), args.error(), req);
        return;
      }
      Priorities scores = extender_.Prioritize(*args);
      answer = EncodePriorities(scores.hosts);
      detail = "pod " + args->pod.namespace_name + "/" + args->pod.name + ": " +
               std::to_string(scores.size()) + " nodes scored";
      break;
    }
    case RouteKind::kPreempt: {
      Result<ExtenderPreemptionArgs> args = DecodePreemptionArgs(body.View());
      if (!args) {
        observe();
        Fail(res, route.name, 400, DecodeErrorReason(args.error()), args.error(), req);
        return;
      }
      std::vector<MetaVictimsAnswer> kept = extender_.Preempt(*args);
      answer = EncodePreemptionResult(kept);
      detail = "pod " + args->pod.namespace_name + "/" + args->pod.name + ": " +
               std::to_string(kept.size()) + "/" + std::to_string(args->candidates.size()) +
               " candidate nodes kept";
      break;
    }
    case RouteKind::kBind: {
      Result<ExtenderBindingArgs> args = DecodeBindingArgs(body.View());
      if (!args) {
        observe();
        Fail(res, route.name, 400, DecodeErrorReason(args.error()), args.error(), req);
        return;
      }
      std::string error = extender_.Bind(*args);
      answer = EncodeBindingResult(error);
      if (!error.empty()) {
        outcome = "bind_failed";
        log_.Warning("bind: " + error);
      }
      detail = "pod " + args->pod_namespace + "/" + args->pod_name + " -> " + args->node +
               (error.empty() ? "" : " failed");
      break;
    }
    default:
      break;
  }
  res.status = 200;
  res.body = std::move(answer);
  // With the charset, cpp-httplib does not gzip the answer for Go's automatic
  // "Accept-Encoding: gzip": compressing a full-mode answer (tens of MB) costs far more than
  // sending it over the cluster network, and kube-scheduler waits for it.
  res.set_header("Content-Type", "application/json; charset=utf-8");
  observe();
  metrics_.ObserveRequest(route.name, outcome);
  if (log_.Enabled(2)) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    log_.V(2, route.name + ": " + detail + " in " + std::to_string(ms) + " ms");
  }
}

}  // namespace epc
