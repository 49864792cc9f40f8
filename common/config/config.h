// Config: the one YAML file every binary reads (mounted from a ConfigMap in a cluster).
//
// Parsing is strict: an unknown key, a wrong type or a bad value is an error that names the key
// path and its position, e.g. `config.yaml:12:5: scheduling.scoringStrategy: "tightest" is not
// one of binpack, spread`. Every key has a default, so an empty file is a valid configuration.
// examples/config.yaml documents every key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/epc_resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"
#include "common/util/result.h"

namespace epc {

struct TlsConfig {
  std::string cert_file;       // serve HTTPS when cert_file and key_file are set
  std::string key_file;
  std::string client_ca_file;  // when set, require client certificates signed by this CA
  bool enabled() const { return !cert_file.empty(); }
};

struct ExtenderConfig {
  std::string bind_address = "0.0.0.0";
  int port = 8888;
  std::string url_prefix;                            // "" or "/scheduler"; no trailing slash
  int64_t max_request_body_bytes = 256LL << 20;      // larger bodies get 413
  bool enable_bind = false;                          // serve <prefix>/bind
  int worker_threads = 8;
  TlsConfig tls;
};

struct Config {
  EpcResources epc_resources;  // key epcResources
  std::vector<PoolSpec> pools;
  SchedulingPolicy scheduling;
  ExtenderConfig extender;
};

// `source` names the text in errors (a file path).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view source);
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace epc
