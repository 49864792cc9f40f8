#include "common/k8s/api_client.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace epc {
namespace {

constexpr size_t kMaxIdleConnections = 8;
constexpr char kUserAgent[] = "epc-scheduler/0.1";

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate in a PEM bundle; empty when none parses.
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = MemBio(pem);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  return out;
}

PkeyPtr ParseKey(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

std::string ApiResponse::ErrorMessage() const {
  std::string message;
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      message = j["message"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  if (message.empty()) message = body.substr(0, 200);
  return "HTTP " + std::to_string(status) + ": " + message;
}

void StreamCanceller::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (client_) client_->stop();
}

void StreamCanceller::Attach(httplib::ClientImpl* client) {
  std::lock_guard lock(mu_);
  client_ = client;
}

Result<std::shared_ptr<ApiClient>> ApiClient::Create(ClientConfig config) {
  if (config.scheme == "https") {
    if (!config.ca_pem.empty() && ParseCertificates(config.ca_pem).empty()) {
      return Error{config.source + ": certificate authority: no PEM certificate found"};
    }
    if (!config.client_cert_pem.empty()) {
      if (ParseCertificates(config.client_cert_pem).empty()) {
        return Error{config.source + ": client certificate: no PEM certificate found"};
      }
      if (!ParseKey(config.client_key_pem)) {
        return Error{config.source + ": client key: no PEM private key found"};
      }
    }
  }
  auto client = std::shared_ptr<ApiClient>(new ApiClient(std::move(config)));
  if (!client->config_.token_file.empty()) {
    std::error_code ec;
    (void)std::filesystem::last_write_time(client->config_.token_file, ec);
    if (ec)
      return Error{client->config_.source + ": token file " + client->config_.token_file + ": " +
                   ec.message()};
  }
  return client;
}

ApiClient::ApiClient(ClientConfig config) : config_(std::move(config)) {
  token_ = config_.bearer_token;
}

ApiClient::~ApiClient() = default;

std::unique_ptr<httplib::ClientImpl> ApiClient::NewConnection() const {
  std::unique_ptr<httplib::ClientImpl> client;
  if (config_.scheme == "https") {
    std::unique_ptr<httplib::SSLClient> ssl;
    if (!config_.client_cert_pem.empty()) {
      auto certs = ParseCertificates(config_.client_cert_pem);
      PkeyPtr key = ParseKey(config_.client_key_pem);
      // SSLClient takes its own references to the certificate and key.
      ssl = std::make_unique<httplib::SSLClient>(config_.host, config_.port, certs.front().get(),
                                                 key.get());
    } else {
      ssl = std::make_unique<httplib::SSLClient>(config_.host, config_.port);
    }
    if (config_.insecure_skip_tls_verify) {
      ssl->enable_server_certificate_verification(false);
    } else if (!config_.ca_pem.empty()) {
      X509_STORE* store = X509_STORE_new();  // owned by the SSL context from here on
      for (auto& cert : ParseCertificates(config_.ca_pem)) X509_STORE_add_cert(store, cert.get());
      ssl->set_ca_cert_store(store);
      ssl->enable_server_certificate_verification(true);
    } else {
      ssl->enable_server_certificate_verification(true);
    }
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(config_.host, config_.port);
  }
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(std::chrono::seconds(5));
  client->set_read_timeout(std::chrono::seconds(30));
  client->set_write_timeout(std::chrono::seconds(30));
  return client;
}

std::unique_ptr<httplib::ClientImpl> ApiClient::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return NewConnection();
}

void ApiClient::Release(std::unique_ptr<httplib::ClientImpl> client) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(client));
}

std::string ApiClient::Token() {
  std::lock_guard lock(mu_);
  if (!config_.token_file.empty()) {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(config_.token_file, ec);
    if (!ec && mtime != token_mtime_) {
      std::ifstream in(config_.token_file);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string token = ss.str();
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      if (!token.empty()) {
        token_ = std::move(token);
        token_mtime_ = mtime;
      }
    }
  }
  return token_;
}

Result<ApiResponse> ApiClient::Send(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& content_type) {
  httplib::Request req;
  req.method = method;
  req.path = config_.base_path + path;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", kUserAgent}};
  if (const std::string token = Token(); !token.empty()) {
    req.headers.emplace("Authorization", "Bearer " + token);
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.body = body;
    req.headers.emplace("Content-Type", content_type);
  }
  auto client = Acquire();
  auto result = client->send(req);
  if (!result) {
    return Error{method + " " + config_.Server() + path + ": " +
                 httplib::to_string(result.error())};
  }
  ApiResponse out{result->status, std::move(result->body)};
  Release(std::move(client));
  return out;
}

Result<ApiResponse> ApiClient::Get(const std::string& path) { return Send("GET", path, "", ""); }
Result<ApiResponse> ApiClient::Post(const std::string& path, const std::string& json) {
  return Send("POST", path, json, "application/json");
}
Result<ApiResponse> ApiClient::Put(const std::string& path, const std::string& json) {
  return Send("PUT", path, json, "application/json");
}
Result<ApiResponse> ApiClient::MergePatch(const std::string& path, const std::string& json) {
  return Send("PATCH", path, json, "application/merge-patch+json");
}
Result<ApiResponse> ApiClient::Delete(const std::string& path, const std::string& json) {
  return Send("DELETE", path, json, json.empty() ? "" : "application/json");
}

Result<ApiResponse> ApiClient::Stream(const std::string& path,
                                      const std::function<bool(std::string_view)>& on_line,
                                      StreamCanceller* canceller,
                                      std::chrono::seconds idle_timeout) {
  auto client = NewConnection();  // a watch holds its connection; never pooled
  client->set_read_timeout(idle_timeout);
  if (canceller) {
    canceller->Attach(client.get());
    if (canceller->cancelled()) {
      canceller->Attach(nullptr);
      return Error{"cancelled"};
    }
  }
  httplib::Request req;
  req.method = "GET";
  req.path = config_.base_path + path;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", kUserAgent}};
  if (const std::string token = Token(); !token.empty()) {
    req.headers.emplace("Authorization", "Bearer " + token);
  }
  int status = 0;
  std::string error_body;
  std::string pending;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      error_body.append(data, len);
      return error_body.size() < (1 << 20);
    }
    pending.append(data, len);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start && !on_line(std::string_view(pending).substr(start, nl - start))) {
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  };
  auto result = client->send(req);
  if (canceller) canceller->Attach(nullptr);
  if (status != 0 && status != 200) return ApiResponse{status, std::move(error_body)};
  if (!result && status == 0) {
    return Error{"watch " + config_.Server() + path + ": " + httplib::to_string(result.error())};
  }
  // The stream ended: by the server, by on_line, by cancellation or by the idle timeout.
  return ApiResponse{200, ""};
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace epc
