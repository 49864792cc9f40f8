#include "tests/testing/certs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace epc::testing {

TestCerts::TestCerts() {
  char tmpl[] = "/tmp/epc-certs-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return;
  dir = tmpl;
  ca_cert = dir + "/ca.crt";
  server_cert = dir + "/server.crt";
  server_key = dir + "/server.key";
  client_cert = dir + "/client.crt";
  client_key = dir + "/client.key";
  other_ca_cert = dir + "/other-ca.crt";
  other_client_cert = dir + "/other-client.crt";
  other_client_key = dir + "/other-client.key";
  std::string script = R"(set -e
cd ")" + dir + R"("
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.crt -days 2 -subj /CN=epc-test-ca
key other-ca.key
openssl req -x509 -new -key other-ca.key -out other-ca.crt -days 2 -subj /CN=epc-other-ca
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
key server.key
openssl req -new -key server.key -out server.csr -subj /CN=epc-extender
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null
key client.key
openssl req -new -key client.key -out client.csr -subj /CN=kube-scheduler
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext 2>/dev/null
key other-client.key
openssl req -new -key other-client.key -out other-client.csr -subj /CN=intruder
openssl x509 -req -in other-client.csr -CA other-ca.crt -CAkey other-ca.key -CAcreateserial -out other-client.crt -days 2 -extfile client.ext 2>/dev/null
)";
  std::ofstream(dir + "/make.sh") << script;
  ok = std::system(("sh " + dir + "/make.sh >" + dir + "/make.log 2>&1").c_str()) == 0;
}

TestCerts::~TestCerts() {
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}
}  // namespace epc::testing
