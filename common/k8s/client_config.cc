#include "common/k8s/client_config.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "common/util/file.h"

extern char** environ;

namespace epc {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{"cannot read " + path + ": " + text.error()};
  return text;
}

Result<std::string> Base64Decode(const std::string& in, const std::string& what) {
  std::string clean;
  for (char c : in) {
    if (c != '\n' && c != '\r' && c != ' ') clean += c;
  }
  if (clean.size() % 4 != 0) return Error{what + ": not valid base64"};
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return Error{what + ": not valid base64"};
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes.
  if (!clean.empty() && clean.back() == '=') --len;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string Str(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

// The `inner` map of the entry called `name`; an undefined node when there is none.
YAML::Node FindNamed(const YAML::Node& list, const std::string& name, const char* inner) {
  if (list && list.IsSequence()) {
    for (const YAML::Node& item : list) {
      if (item["name"] && item["name"].as<std::string>() == name && item[inner].IsMap()) {
        return item[inner];
      }
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// Either the inline base64 "-data" field or the file it names (relative to the kubeconfig).
Result<std::string> DataOrFile(const YAML::Node& n, const char* data_key, const char* file_key,
                               const std::filesystem::path& dir, const std::string& where) {
  if (const std::string data = Str(n, data_key); !data.empty()) {
    return Base64Decode(data, where + ": " + data_key);
  }
  if (std::string file = Str(n, file_key); !file.empty()) {
    if (std::filesystem::path(file).is_relative()) file = (dir / file).string();
    auto content = ReadFile(file);
    if (!content.ok()) return Error{where + ": " + file_key + ": " + content.error()};
    return content;
  }
  return std::string();
}

}  // namespace

std::string ClientConfig::Server() const {
  return scheme + "://" + host + ":" + std::to_string(port) + base_path;
}

Result<bool> ParseServerUrl(const std::string& url, ClientConfig& config) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Error{"server \"" + url + "\" has no scheme"};
  config.scheme = url.substr(0, scheme_end);
  if (config.scheme != "https" && config.scheme != "http") {
    return Error{"server \"" + url + "\": scheme must be https or http"};
  }
  std::string rest = url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  config.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!config.base_path.empty() && config.base_path.back() == '/') config.base_path.pop_back();
  const std::string hostport = rest.substr(0, slash);
  std::string port_text;                               // what follows the host's ':', if anything
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:6443
    const auto close = hostport.find(']');
    if (close == std::string::npos) return Error{"server \"" + url + "\": bad IPv6 address"};
    config.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return Error{"server \"" + url + "\": bad address"};
      port_text = hostport.substr(close + 2);
    }
  } else if (const auto colon = hostport.rfind(':'); colon != std::string::npos) {
    config.host = hostport.substr(0, colon);
    port_text = hostport.substr(colon + 1);
  } else {
    config.host = hostport;
  }
  config.port = config.scheme == "https" ? 443 : 80;
  if (!port_text.empty() || hostport.ends_with(':')) {
    char* end = nullptr;
    const long p = std::strtol(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || p <= 0 || p > 65535) {
      return Error{"server \"" + url + "\": bad port \"" + port_text + "\""};
    }
    config.port = static_cast<int>(p);
  }
  if (config.host.empty()) return Error{"server \"" + url + "\" has no host"};
  return true;
}

Result<ClientConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{"kubeconfig " + path + ": cannot read the file"};
  } catch (const YAML::Exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  try {
    const std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
    if (ctx_name.empty()) return Error{"kubeconfig " + path + ": no current-context"};
    const YAML::Node ctx = FindNamed(root["contexts"], ctx_name, "context");
    if (!ctx) return Error{"kubeconfig " + path + ": context \"" + ctx_name + "\" not found"};
    const std::string cluster_name = Str(ctx, "cluster");
    const std::string user_name = Str(ctx, "user");
    const YAML::Node cluster = FindNamed(root["clusters"], cluster_name, "cluster");
    if (!cluster) {
      return Error{"kubeconfig " + path + ": cluster \"" + cluster_name + "\" not found"};
    }
    const std::string where = "kubeconfig " + path + " (context " + ctx_name + ")";

    ClientConfig c;
    c.source = where;
    const std::string server = Str(cluster, "server");
    if (server.empty()) return Error{where + ": cluster has no server"};
    if (auto ok = ParseServerUrl(server, c); !ok.ok()) return Error{where + ": " + ok.error()};
    c.insecure_skip_tls_verify =
        cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    c.tls_server_name = Str(cluster, "tls-server-name");
    auto ca =
        DataOrFile(cluster, "certificate-authority-data", "certificate-authority", dir, where);
    if (!ca.ok()) return Error{ca.error()};
    c.ca_pem = ca.value();

    const YAML::Node user = FindNamed(root["users"], user_name, "user");
    if (user) {
      c.bearer_token = Str(user, "token");
      c.token_file = Str(user, "tokenFile");
      if (!c.token_file.empty() && std::filesystem::path(c.token_file).is_relative()) {
        c.token_file = (dir / c.token_file).string();
      }
      auto cert = DataOrFile(user, "client-certificate-data", "client-certificate", dir, where);
      if (!cert.ok()) return Error{cert.error()};
      auto key = DataOrFile(user, "client-key-data", "client-key", dir, where);
      if (!key.ok()) return Error{key.error()};
      c.client_cert_pem = cert.value();
      c.client_key_pem = key.value();
      if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
        return Error{where + ": a client certificate needs both certificate and key"};
      }
    }
    return c;
  } catch (const YAML::Exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
}

Result<ClientConfig> InClusterConfig(const std::map<std::string, std::string>& env,
                                     const std::string& sa_dir) {
  auto host = env.find("KUBERNETES_SERVICE_HOST");
  auto port = env.find("KUBERNETES_SERVICE_PORT");
  if (host == env.end() || port == env.end() || host->second.empty()) {
    return Error{
        "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and no --kubeconfig given"};
  }
  ClientConfig c;
  c.source = "in-cluster";
  std::string h = host->second;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  if (auto ok = ParseServerUrl("https://" + h + ":" + port->second, c); !ok.ok()) {
    return Error{"in-cluster: " + ok.error()};
  }
  c.token_file = sa_dir + "/token";
  auto token = ReadFile(c.token_file);
  if (!token.ok()) return Error{"in-cluster: " + token.error()};
  auto ca = ReadFile(sa_dir + "/ca.crt");
  if (!ca.ok()) return Error{"in-cluster: " + ca.error()};
  c.ca_pem = ca.value();
  return c;
}

Result<ClientConfig> ResolveClientConfig(const std::string& kubeconfig_flag) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag);
  if (const char* env_path = std::getenv("KUBECONFIG"); env_path && *env_path) {
    std::string first = env_path;
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return InClusterConfig(env);
}

}  // namespace epc
