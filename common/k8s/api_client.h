// ApiClient: HTTP(S) requests to the Kubernetes API server, and streamed watches.
//
// Thread-safe: any thread may send requests; each takes a pooled keep-alive connection. HTTP
// error statuses are answers (ApiResponse::status), not errors: callers decide what a 409
// Conflict, 410 Gone or 429 means. Result errors are transport failures (refused, reset, TLS).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/k8s/client_config.h"
#include "common/util/result.h"

namespace httplib {
class ClientImpl;
}

namespace epc {

struct ApiResponse {
  int status = 0;
  std::string body;
  bool ok() const { return status >= 200 && status < 300; }
  // The message of a metav1.Status body, else the start of the body; prefixed with the code.
  std::string ErrorMessage() const;
};

// Cancels a Stream() from another thread: the connection is shut down at once.
class StreamCanceller {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class ApiClient;
  void Attach(httplib::ClientImpl* client);
  std::mutex mu_;
  httplib::ClientImpl* client_ = nullptr;
  std::atomic<bool> cancelled_{false};
};

class ApiClient {
 public:
  // Checks the certificates and keys; errors name what is wrong.
  static Result<std::shared_ptr<ApiClient>> Create(ClientConfig config);
  ~ApiClient();

  Result<ApiResponse> Get(const std::string& path);
  Result<ApiResponse> Post(const std::string& path, const std::string& json);
  Result<ApiResponse> Put(const std::string& path, const std::string& json);
  Result<ApiResponse> MergePatch(const std::string& path, const std::string& json);
  Result<ApiResponse> Delete(const std::string& path, const std::string& json = "");
  Result<ApiResponse> Send(const std::string& method, const std::string& path,
                           const std::string& body, const std::string& content_type);

  // A streaming GET (a watch). Calls `on_line` with each newline-terminated line of the body
  // while the status is 200; stops when on_line returns false, the server ends the stream, the
  // canceller fires, or nothing arrives for `idle_timeout`. A non-200 answer is returned whole.
  Result<ApiResponse> Stream(const std::string& path,
                             const std::function<bool(std::string_view line)>& on_line,
                             StreamCanceller* canceller, std::chrono::seconds idle_timeout);

  const ClientConfig& config() const { return config_; }

 private:
  explicit ApiClient(ClientConfig config);
  std::unique_ptr<httplib::ClientImpl> NewConnection() const;
  std::unique_ptr<httplib::ClientImpl> Acquire();
  void Release(std::unique_ptr<httplib::ClientImpl> client);
  std::string Token();

  const ClientConfig config_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;
  std::string token_;
  std::filesystem::file_time_type token_mtime_{};
};

// URL-encodes a query parameter value.
std::string UrlEncode(std::string_view value);

}  // namespace epc
