// ClientConfig: where the Kubernetes API server is and how to authenticate, found the way
// Kubernetes components find it: a kubeconfig file (--kubeconfig) or the in-cluster service
// account.
#pragma once

#include <map>
#include <string>

#include "common/util/result.h"

namespace epc {

struct ClientConfig {
  std::string scheme = "https";  // "http" only for tests against a loopback double
  std::string host;
  int port = 443;
  std::string base_path;  // a server URL's path, e.g. "/k8s/clusters/c-1"; usually empty

  std::string ca_pem;  // empty: the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // unused by the transport; kept for messages

  std::string bearer_token;
  std::string token_file;  // re-read when it changes (projected service-account tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;

  std::string source;          // "kubeconfig /path (context x)" or "in-cluster", for messages
  std::string Server() const;  // "https://host:port/base"
};

// Reads the current context (or `context` when not empty) of a kubeconfig: server,
// certificate-authority(-data), insecure-skip-tls-verify, token, tokenFile,
// client-certificate(-data), client-key(-data). Relative file paths resolve against the
// kubeconfig's directory, as kubectl does. Errors name the file and the missing or bad field.
Result<ClientConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// The service-account token and CA under `sa_dir` and the API server from
// KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT in `env`.
Result<ClientConfig> InClusterConfig(
    const std::map<std::string, std::string>& env,
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// --kubeconfig when given, else $KUBECONFIG, else in-cluster (the order client-go's
// BuildConfigFromFlags and kubectl's loading rules share for one file).
Result<ClientConfig> ResolveClientConfig(const std::string& kubeconfig_flag);

// Parses "https://host:port/path" into scheme/host/port/base_path.
Result<bool> ParseServerUrl(const std::string& url, ClientConfig& config);

}  // namespace epc
