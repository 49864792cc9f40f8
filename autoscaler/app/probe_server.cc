#include "autoscaler/app/probe_server.h"

#include <httplib.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>

namespace epc {

Result<HostPort> ParseBindAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error{"bind address \"" + address + "\" is not <host>:<port>"};
  }
  HostPort out;
  out.host = address.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  const std::string port = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return Error{"bind address \"" + address + "\": port must be 0..65535"};
  }
  return out;
}

ProbeServer::ProbeServer(Logger& log) : log_(log), server_(std::make_unique<httplib::Server>()) {}

ProbeServer::~ProbeServer() { Stop(); }

void ProbeServer::Handle(const std::string& path, Handler handler) {
  server_->Get(
      path, [handler = std::move(handler), this](const httplib::Request&, httplib::Response& res) {
        try {
          Answer a = handler();
          res.status = a.status;
          res.set_content(a.body, a.content_type.c_str());
        } catch (const std::exception& e) {
          log_.Error(std::string("probe handler: ") + e.what());
          res.status = 500;
          res.set_content("internal error\n", "text/plain");
        }
      });
}

Result<int> ProbeServer::Start(const std::string& address) {
  Result<HostPort> hp = ParseBindAddress(address);
  if (!hp.ok()) return Error{hp.error()};
  errno = 0;
  int port = hp->port;
  if (port == 0) {
    port = server_->bind_to_any_port(hp->host);
  } else if (!server_->bind_to_port(hp->host, port)) {
    port = -1;
  }
  if (port < 0) {
    return Error{"cannot listen on " + address +
                 (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string())};
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void ProbeServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace epc
