#include "tests/testing/fake_apiserver.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace epc::testing {

FakeApiServer::FakeApiServer(std::vector<std::string> flags) {
  char tmpl[] = "/tmp/epc-fake-apiserver-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return;
  dir_ = tmpl;
  const std::string port_file = dir_ + "/port";
  std::vector<std::string> args = {"python3",     EPC_SOURCE_DIR "/tests/doubles/fake_apiserver.py",
                                   "--port",      "0",
                                   "--port-file", port_file};
  for (const std::string& f : flags) {
    if (f == "--tls-cert") tls_ = true;
    args.push_back(f);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    return;
  }
  for (int i = 0; i < 200 && port_ <= 0; ++i) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

FakeApiServer::~FakeApiServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

ClientConfig FakeApiServer::Config() const {
  ClientConfig c;
  c.scheme = tls_ ? "https" : "http";
  c.host = "127.0.0.1";
  c.port = port_;
  c.source = "fake apiserver";
  return c;
}

}  // namespace epc::testing
