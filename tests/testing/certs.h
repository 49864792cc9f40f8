// TestCerts: throwaway PKI for TLS tests.
#pragma once

#include <string>

namespace epc::testing {

// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with the
// openssl CLI in a fresh temporary directory (removed by the destructor).
struct TestCerts {
  TestCerts();
  ~TestCerts();
  bool ok = false;
  std::string dir, ca_cert, server_cert, server_key, client_cert, client_key, other_ca_cert,
      other_client_cert, other_client_key;
};

}  // namespace epc::testing
