// FakeApiServer: runs tests/doubles/fake_apiserver.py (the Kubernetes API server test double)
// as a child process on 127.0.0.1 for C++ tests, and stops it in the destructor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/k8s/client_config.h"

namespace epc::testing {

class FakeApiServer {
 public:
  // Extra command-line flags, e.g. {"--token", "t", "--tls-cert", c, "--tls-key", k}.
  explicit FakeApiServer(std::vector<std::string> flags = {});
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // A client configuration for it (http, or https when started with --tls-cert).
  ClientConfig Config() const;

 private:
  pid_t pid_ = -1;
  int port_ = -1;
  bool tls_ = false;
  std::string dir_;
};

}  // namespace epc::testing
