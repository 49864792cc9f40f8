// http_load: drives the real ExtenderServer the way kube-scheduler's extender client does and
// reports latency percentiles per verb and mode, next to the transport floor of full mode.
//
// The client behaves like Go's net/http transport as kube-scheduler configures it
// (utilnet.SetTransportDefaults(&http.Transport{})): HTTP/1.1 keep-alive on one connection,
// TCP_NODELAY (Go's default), one request at a time (kube-scheduler is serial per scheduling
// cycle), `Content-Type: application/json`, and `Accept-Encoding: gzip`, which Go's transport adds
// to every request unless DisableCompression is set (kube-scheduler does not set it). Go then
// gunzips transparently; this tool only reads the bytes off the wire. --accept-encoding=none
// sends no Accept-Encoding header.
//
// The server under test is the real ExtenderServer, in process on 127.0.0.1 (port 0), over a
// ClusterStore with --nodes nodes and pods bound to them. The transport floor is a second
// httplib::Server with the same settings (worker pool, TCP_NODELAY, socket options, keep-alive
// count, payload limit), reading the body through the same ContentReader into the same
// RequestBuffer, and answering the exact bytes of the extender's answer to the same request,
// without decoding anything. Every series (mode and verb) has its floor, and requests to the two
// alternate so that machine noise hits both alike: the difference is what the extender's work
// adds to the transport.
//
// Usage: http_load [--nodes N] [--requests K] [--full-requests K] [--verbs filter,prioritize]
//                  [--modes names,full] [--warmup K] [--accept-encoding gzip|none]
//                  [--threads T] [--no-floor] [--raw-floor] [--tls] [--client-wait block|poll]
//                  [--awake-cpus] [--send-gbps G]
//
// --no-floor measures the extender alone: the floor's requests, alternating, also take turns in
// the CPU caches, which costs the extender's lookups a little. --raw-floor adds a third server
// to the rotation, a plain blocking socket loop answering the same bytes (RawFloorServer): the
// kernel's share of the transport, so the floor's excess over it is httplib's.
//
// --client-wait poll: the client waits for each answer by polling its socket (recv with
// MSG_DONTWAIT in a loop) instead of sleeping in recv as Go's netpoller does. On a VM a client
// thread that sleeps leaves its vCPU halted, and the answer must first wake that vCPU: on this
// 2-vCPU machine that wake-up takes from microseconds to milliseconds, and sets the client's p99.
// Polling takes it out: what remains is the extender and the loopback transport. The default,
// block, is kube-scheduler's way.
//
// --awake-cpus keeps every CPU from halting instead, with the client unchanged: one thread per
// CPU, pinned to it, spins at SCHED_IDLE, the policy that runs only when nothing else wants
// the CPU and yields to any other thread at once. It stands for a node with other work on it
// (the usual state of a node that runs kube-scheduler); an idle VM is the other case.
//
// --send-gbps G paces every request body to G gigabits per second, in 256 KiB slices, as a
// network link between kube-scheduler and the extender would (loopback alone moves a 45 MB body
// in ~30 ms, ~12 Gbit/s, on this VM). The floors get the same pacing.
//
// Columns "hdl p50/p99" (milliseconds) are the extender's own time per request, as it logs it at
// --v 2
// ("<verb>: ... in <ms> ms": from the request's headers read to its answer encoded, the body's
// read included, the answer's send not): the client's figures less the loopback transport,
// whose noise on a shared VM is seen in the raw floor's p99.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <simdjson.h>

#include "benchmarks/cluster_gen.h"
#include "scheduler/extender/extender.h"
#include "scheduler/extender/seen_pods.h"
#include "scheduler/http/buffered_server.h"
#include "scheduler/http/metrics.h"
#include "scheduler/http/server.h"
#include "scheduler/wire/extender_args.h"

namespace epc::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  size_t nodes = 5000;
  size_t requests = 2000;     // per verb in names mode
  size_t full_requests = 30;  // per verb in full mode (and as many floor requests)
  size_t warmup = 0;          // 0: 50 in names mode, 2 in full mode
  std::vector<std::string> verbs = {"filter", "prioritize"};
  std::vector<std::string> modes = {"names", "full"};
  std::string accept_encoding = "gzip";
  int threads = 0;          // 0: the ExtenderConfig default
  bool floor = true;        // alternate with requests to a transport floor
  bool raw_floor = false;   // and to a raw-socket floor (the kernel's share)
  bool tls = false;         // HTTPS (extender.tls), without floors
  bool poll = false;        // --client-wait poll: wait for answers without sleeping
  bool awake_cpus = false;  // --awake-cpus: a SCHED_IDLE spinner on every CPU
  double send_gbps = 0;     // --send-gbps: request bodies paced to this rate; 0: as fast as sent
};

[[noreturn]] void Usage(const std::string& error) {
  std::cerr << "http_load: " << error
            << "\nusage: http_load [--nodes N] [--requests K] [--full-requests K]"
               " [--verbs filter,prioritize] [--modes names,full] [--warmup K]"
               " [--accept-encoding gzip|none] [--threads T] [--no-floor] [--raw-floor] [--tls]"
               " [--client-wait block|poll] [--awake-cpus] [--send-gbps G]\n";
  std::exit(2);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

size_t ParseCount(const std::string& flag, const std::string& value) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) {
    Usage(flag + " wants a number, got \"" + value + "\"");
  }
  return n;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (arg == "--help" || arg == "-h") {
      Usage("help");
    } else if (arg == "--no-floor") {
      o.floor = false;
      continue;
    } else if (arg == "--raw-floor") {
      o.raw_floor = true;
      continue;
    } else if (arg == "--awake-cpus") {
      o.awake_cpus = true;
      continue;
    } else if (arg == "--tls") {
      o.tls = true;  // the floors speak plain HTTP
      o.floor = false;
      o.raw_floor = false;
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Usage(arg + " needs a value");
    }
    if (arg == "--nodes") {
      o.nodes = ParseCount(arg, value);
    } else if (arg == "--requests") {
      o.requests = ParseCount(arg, value);
    } else if (arg == "--full-requests") {
      o.full_requests = ParseCount(arg, value);
    } else if (arg == "--warmup") {
      o.warmup = ParseCount(arg, value);
    } else if (arg == "--verbs") {
      o.verbs = SplitList(value);
      for (const auto& v : o.verbs) {
        if (v != "filter" && v != "prioritize") Usage("unknown verb \"" + v + "\"");
      }
    } else if (arg == "--modes") {
      o.modes = SplitList(value);
      for (const auto& m : o.modes) {
        if (m != "names" && m != "full") Usage("unknown mode \"" + m + "\"");
      }
    } else if (arg == "--accept-encoding") {
      o.accept_encoding = value == "none" ? "" : value;
    } else if (arg == "--threads") {
      o.threads = static_cast<int>(ParseCount(arg, value));
    } else if (arg == "--client-wait") {
      if (value != "block" && value != "poll") {
        Usage("--client-wait is block or poll, not \"" + value + "\"");
      }
      o.poll = value == "poll";
    } else if (arg == "--send-gbps") {
      const auto [end, ec] =
          std::from_chars(value.data(), value.data() + value.size(), o.send_gbps);
      if (ec != std::errc() || end != value.data() + value.size() || !(o.send_gbps > 0)) {
        Usage("--send-gbps takes a positive number of gigabits per second, not \"" + value + "\"");
      }
    } else {
      Usage("unknown flag " + arg);
    }
  }
  if (o.nodes == 0) Usage("--nodes must be positive");
  if (o.poll && o.tls) Usage("--client-wait poll is for plain HTTP; drop it or --tls");
  return o;
}

// One thread per CPU, pinned to it, spinning at SCHED_IDLE while the object lives (see
// --awake-cpus): no CPU halts, and any other thread that wants a CPU has it at once.
class AwakeCpus {
 public:
  AwakeCpus() {
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned cpu = 0; cpu < cpus; ++cpu) {
      spinners_.emplace_back([this, cpu](std::stop_token stop) {
        // A spinner that is not idle-class would take CPU time from the threads measured.
        sched_param param{};
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        const bool ready = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0 &&
                           pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
        {
          std::lock_guard lock(mu_);
          (ready ? spinning_ : failed_) += 1;
        }
        started_.notify_all();
        if (!ready) return;
        while (!stop.stop_requested()) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#endif
        }
      });
    }
  }

  // How many spinners run, once every one has started (or failed to).
  unsigned spinning() {
    std::unique_lock lock(mu_);
    started_.wait(lock, [&] { return spinning_ + failed_ == spinners_.size(); });
    return spinning_;
  }
  unsigned cpus() const { return static_cast<unsigned>(spinners_.size()); }

 private:
  std::mutex mu_;
  std::condition_variable started_;
  unsigned spinning_ = 0;
  unsigned failed_ = 0;
  std::vector<std::jthread> spinners_;  // last: stopped and joined before the rest goes
};

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---- the client --------------------------------------------------------------------------------

struct Response {
  int status = 0;
  size_t wire_bytes = 0;  // the body as sent (compressed when Content-Encoding is set)
  std::string content_encoding;
  std::string content_type;
  std::string body;  // kept only when asked
};

// One kept-alive HTTP/1.1 connection, one request at a time.
class Connection {
 public:
  // `tls` (not owned; null for plain HTTP): the context TLS connections are made with. `poll`:
  // wait for answers by polling the socket rather than sleeping in recv (plain HTTP only).
  // `send_gbps` > 0: bodies are paced to that many gigabits per second.
  explicit Connection(int port, SSL_CTX* tls = nullptr, bool poll = false, double send_gbps = 0)
      : port_(port), tls_(tls), poll_(poll), send_gbps_(send_gbps) {
    buffer_.resize(1 << 20);
    Connect();
  }
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Like Go's transport: when the server closed the connection (`Connection: close` after
  // keep_alive_max_count requests), the next request dials a new one, inside its own timing.
  Response Post(const std::string& path, std::string_view body, const std::string& encoding,
                bool keep_body) {
    if (fd_ < 0) {
      Connect();
      ++reconnects_;
    }
    std::string head =
        "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
        "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nContent-Type: application/json\r\n";
    if (!encoding.empty()) head += "Accept-Encoding: " + encoding + "\r\n";
    head += "\r\n";
    SendAll(head);
    if (send_gbps_ > 0) {
      SendPaced(body);
    } else {
      SendAll(body);
    }
    return Read(keep_body);
  }
  size_t reconnects() const { return reconnects_; }

 private:
  void Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    int yes = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    timeval timeout{60, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
    if (tls_ != nullptr) {
      ssl_ = SSL_new(tls_);
      if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || SSL_connect(ssl_) != 1) {
        throw std::runtime_error("TLS handshake with the extender failed");
      }
    }
    begin_ = end_ = 0;
  }

  void Close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Slice k of the body leaves no earlier than k slices' worth of time at send_gbps_ after the
  // first.
  void SendPaced(std::string_view data) {
    constexpr size_t kSlice = 256 << 10;
    const auto start = Clock::now();
    const double ns_per_byte = 8.0 / send_gbps_;
    for (size_t at = 0; at < data.size(); at += kSlice) {
      std::this_thread::sleep_until(start + std::chrono::nanoseconds(static_cast<int64_t>(
                                                static_cast<double>(at) * ns_per_byte)));
      SendAll(data.substr(at, kSlice));
    }
  }

  void SendAll(std::string_view data) {
    while (ssl_ != nullptr && !data.empty()) {
      const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) throw std::runtime_error("SSL_write failed");
      data.remove_prefix(static_cast<size_t>(n));
    }
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("send: " + std::string(std::strerror(errno)));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Fills buffer_[end_..] with at least one more byte.
  void Fill() {
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    if (ssl_ != nullptr) {
      const int room = static_cast<int>(std::min<size_t>(buffer_.size() - end_, 1 << 30));
      const int n = SSL_read(ssl_, buffer_.data() + end_, room);
      if (n <= 0) throw std::runtime_error("SSL_read: the server closed or failed");
      end_ += static_cast<size_t>(n);
      return;
    }
    // Polling gives up when a blocking recv would (SO_RCVTIMEO, 60 s).
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      ssize_t n = recv(fd_, buffer_.data() + end_, buffer_.size() - end_, poll_ ? MSG_DONTWAIT : 0);
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        return;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && poll_ && (errno == EAGAIN || errno == EWOULDBLOCK) && Clock::now() < give_up) {
        continue;
      }
      throw std::runtime_error(n == 0 ? "connection closed by the server"
                                      : "recv: " + std::string(std::strerror(errno)));
    }
  }

  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  Response Read(bool keep_body) {
    // Headers.
    size_t header_end = std::string::npos;
    for (;;) {
      std::string_view have(buffer_.data() + begin_, end_ - begin_);
      header_end = have.find("\r\n\r\n");
      if (header_end != std::string_view::npos) break;
      if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      Fill();
    }
    std::string_view head(buffer_.data() + begin_, header_end);
    Response r;
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/")
      throw std::runtime_error("malformed response");
    r.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    size_t length = 0;
    bool chunked = false;
    bool close_after = false;
    size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos < head.size()) {
      size_t next = head.find("\r\n", pos + 2);
      std::string_view line =
          head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = Lower(line.substr(0, colon));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "content-length") {
          std::from_chars(value.data(), value.data() + value.size(), length);
        } else if (name == "transfer-encoding") {
          chunked = Lower(value).find("chunked") != std::string::npos;
        } else if (name == "content-encoding") {
          r.content_encoding = std::string(value);
        } else if (name == "content-type") {
          r.content_type = std::string(value);
        } else if (name == "connection") {
          close_after = Lower(value).find("close") != std::string::npos;
        }
      }
      pos = next;
    }
    begin_ += header_end + 4;
    if (chunked) {
      ReadChunked(r, keep_body);
    } else {
      ReadBody(r, length, keep_body);
    }
    if (begin_ == end_) begin_ = end_ = 0;
    if (close_after) Close();
    return r;
  }

  void ReadBody(Response& r, size_t length, bool keep_body) {
    r.wire_bytes += length;
    while (length > 0) {
      if (begin_ == end_) {
        begin_ = end_ = 0;
        Fill();
      }
      size_t take = std::min(length, end_ - begin_);
      if (keep_body) r.body.append(buffer_.data() + begin_, take);
      begin_ += take;
      length -= take;
    }
  }

  std::string ReadLine() {
    for (;;) {
      std::string_view have(buffer_.data() + begin_, end_ - begin_);
      size_t eol = have.find("\r\n");
      if (eol != std::string_view::npos) {
        std::string line(have.substr(0, eol));
        begin_ += eol + 2;
        return line;
      }
      if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      Fill();
    }
  }

  void ReadChunked(Response& r, bool keep_body) {
    for (;;) {
      std::string size_line = ReadLine();
      size_t size = std::strtoul(size_line.c_str(), nullptr, 16);
      if (size == 0) {
        while (!ReadLine().empty()) {
        }
        return;
      }
      ReadBody(r, size, keep_body);
      ReadLine();
    }
  }

  int port_;
  SSL_CTX* tls_;
  bool poll_;
  double send_gbps_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  size_t reconnects_ = 0;
  std::vector<char> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// ---- TLS ---------------------------------------------------------------------------------------

// A self-signed certificate and key (EC P-256) in a new temporary directory, removed with the
// object: the extender's extender.tls files under --tls. The client does not verify them.
class TempCertificate {
 public:
  TempCertificate() {
    char dir[] = "/tmp/http_load_tls_XXXXXX";
    if (mkdtemp(dir) == nullptr)
      throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    dir_ = dir;
    const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                                  EVP_PKEY_free);
    const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    if (!key || !cert) throw std::runtime_error("cannot make a test key and certificate");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
      throw std::runtime_error("cannot sign the test certificate");
    }
    Write(cert_path(), [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
    Write(key_path(), [&](FILE* f) {
      return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
  }
  ~TempCertificate() {
    std::remove(cert_path().c_str());
    std::remove(key_path().c_str());
    rmdir(dir_.c_str());
  }
  TempCertificate(const TempCertificate&) = delete;
  TempCertificate& operator=(const TempCertificate&) = delete;

  std::string cert_path() const { return dir_ + "/tls.crt"; }
  std::string key_path() const { return dir_ + "/tls.key"; }

 private:
  template <typename WritePem>
  static void Write(const std::string& path, WritePem&& write) {
    const std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "w"),
                                                          std::fclose);
    if (!f || write(f.get()) != 1) throw std::runtime_error("cannot write " + path);
  }

  std::string dir_;
};

// ---- the transport floor ---------------------------------------------------------------------

// A server with ExtenderServer's httplib settings that reads the body exactly as HandleVerb does
// and answers a fixed body.
class FloorServer {
 public:
  FloorServer(const ExtenderConfig& config, std::string answer, std::string content_type)
      : answer_(std::move(answer)), content_type_(std::move(content_type)) {
    BufferedServer& s = server_;
    size_t threads = config.worker_threads > 0 ? static_cast<size_t>(config.worker_threads) : 1;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_tcp_nodelay(true);
    s.set_socket_options([](int sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    s.set_keep_alive_max_count(1000);
    const size_t limit = static_cast<size_t>(config.max_request_body_bytes);
    s.set_payload_max_length(limit);
    s.Post(".*", [this, limit](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader& reader) {
      RequestBuffer body(&body_pool_);
      const std::string length_header = req.get_header_value("Content-Length");
      size_t length = 0;
      if (!length_header.empty()) {
        std::from_chars(length_header.data(), length_header.data() + length_header.size(), length);
        if (length <= limit) body.Reserve(length);
      }
      bool read = reader([&](const char* data, size_t size) {
        if (body.size() + size > limit) return false;
        body.Append(data, size);
        return true;
      });
      if (!read) {
        res.status = 400;
        return;
      }
      simdjson::padded_string_view view = body.View();
      if (view.size() != length) {
        res.status = 400;
        return;
      }
      std::string answer = answer_;  // the extender builds its answer afresh for every request
      res.status = 200;
      res.body = std::move(answer);
      res.set_header("Content-Type", content_type_);
    });
    port_ = s.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("floor server: cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FloorServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  std::string content_type_;     // as the extender answers: it decides whether httplib compresses
  RequestBufferPool body_pool_;  // as the extender keeps its body storage
  BufferedServer server_;        // the extender's server (without TLS)
  int port_ = -1;
  std::thread thread_;
};

// The kernel's share of the floor: a plain blocking server on one thread, one connection at a
// time, reading the request with large recv calls and answering with one writev (no HTTP
// library, no worker pool, no poll before each read). What the FloorServer takes above this is
// httplib's.
class RawFloorServer {
 public:
  RawFloorServer(std::string answer, const std::string& content_type) : answer_(std::move(answer)) {
    head_ = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
            "\r\nContent-Length: " + std::to_string(answer_.size()) +
            "\r\nKeep-Alive: timeout=5, max=1000\r\n\r\n";
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0) {
      throw std::runtime_error("raw floor: cannot listen");
    }
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawFloorServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    std::vector<char> buffer(1 << 20);
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      int yes = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
      size_t have = 0;
      for (bool open = true; open;) {
        // Headers, then Content-Length bytes of body.
        size_t body_at = std::string_view::npos;
        size_t length = 0;
        while (open) {
          const std::string_view seen(buffer.data(), have);
          if (size_t end = seen.find("\r\n\r\n"); end != std::string_view::npos) {
            body_at = end + 4;
            const size_t cl = seen.find("Content-Length: ");
            if (cl != std::string_view::npos && cl < end) {
              std::from_chars(seen.data() + cl + 16, seen.data() + end, length);
            }
            if (have >= body_at + length) break;
          }
          if (have == buffer.size()) buffer.resize(buffer.size() * 2);
          const ssize_t n = recv(fd, buffer.data() + have, buffer.size() - have, 0);
          if (n <= 0)
            open = false;
          else
            have += static_cast<size_t>(n);
        }
        if (!open) break;
        const std::string answer = answer_;  // built afresh, as the others do
        iovec parts[2] = {{head_.data(), head_.size()},
                          {const_cast<char*>(answer.data()), answer.size()}};
        size_t left = head_.size() + answer.size();
        size_t part = 0;
        while (left > 0 && open) {
          const ssize_t n = writev(fd, parts + part, 2 - static_cast<int>(part));
          if (n <= 0) {
            open = false;
            break;
          }
          left -= static_cast<size_t>(n);
          for (size_t done = static_cast<size_t>(n); done > 0 && part < 2;) {
            const size_t take = std::min(done, parts[part].iov_len);
            parts[part].iov_base = static_cast<char*>(parts[part].iov_base) + take;
            parts[part].iov_len -= take;
            done -= take;
            if (parts[part].iov_len == 0) ++part;
          }
        }
        const size_t used = body_at + length;
        std::memmove(buffer.data(), buffer.data() + used, have - used);
        have -= used;
      }
      close(fd);
    }
  }

  std::string answer_;
  std::string head_;
  int listen_fd_ = -1;
  int port_ = -1;
  std::thread thread_;
};

// ---- measurement -------------------------------------------------------------------------------

struct Series {
  std::string mode;
  std::string verb;
  size_t request_bytes = 0;
  size_t response_bytes = 0;  // on the wire
  std::string content_encoding;
  std::vector<double> ms;
  size_t connections = 1;
  std::vector<double> handler_ms;  // as the extender logged them; empty for the floors
};

// The handler times of `verb` in the extender's --v 2 log lines ("<verb>: ... in <ms> ms").
std::vector<double> HandlerMillis(const std::string& log, const std::string& verb) {
  std::vector<double> out;
  std::istringstream lines(log);
  const std::string prefix = verb + ": ";
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(prefix);
    const size_t in = line.rfind(" in ");
    if (at == std::string::npos || in == std::string::npos || !line.ends_with(" ms")) continue;
    double ms = 0;
    const char* first = line.data() + in + 4;
    if (std::from_chars(first, line.data() + line.size() - 3, ms).ec == std::errc()) {
      out.push_back(ms);
    }
  }
  return out;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  if (rank == 0) rank = 1;
  return v[std::min(rank, v.size()) - 1];
}

double Timed(Connection& conn, const std::string& path, std::string_view body,
             const std::string& encoding, Series& series) {
  auto start = Clock::now();
  Response r = conn.Post(path, body, encoding, false);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (r.status != 200) {
    throw std::runtime_error(series.mode + " " + series.verb + ": HTTP " +
                             std::to_string(r.status));
  }
  series.response_bytes = r.wire_bytes;
  series.content_encoding = r.content_encoding;
  return ms;
}

// One request outside the timing whose answer is checked: 200 and JSON of the expected shape.
Response Check(Connection& conn, const std::string& path, std::string_view body,
               const std::string& mode, const std::string& verb) {
  Response r = conn.Post(path, body, "", true);
  bool ok = r.status == 200;
  if (ok && verb == "filter") {
    std::string key = mode == "names" ? "\"NodeNames\":[" : "\"Nodes\":{";
    ok =
        r.body.find(key) != std::string::npos && r.body.find("\"Error\":\"\"") != std::string::npos;
  } else if (ok) {
    ok = r.body.rfind("[{\"Host\":", 0) == 0;
  }
  if (!ok) {
    throw std::runtime_error(mode + " " + verb + ": unexpected answer (HTTP " +
                             std::to_string(r.status) + "): " + r.body.substr(0, 300));
  }
  return r;
}

void PrintRow(const Series& s) {
  std::printf("%-6s %-17s %8zu %5zu %10.2f %10.3f %-5s %9.3f %9.3f %9.3f %9.3f", s.mode.c_str(),
              s.verb.c_str(), s.ms.size(), s.connections,
              static_cast<double>(s.request_bytes) / 1e6,
              static_cast<double>(s.response_bytes) / 1e6,
              s.content_encoding.empty() ? "-" : s.content_encoding.c_str(), Percentile(s.ms, 0.50),
              Percentile(s.ms, 0.90), Percentile(s.ms, 0.99),
              s.ms.empty() ? 0.0 : *std::max_element(s.ms.begin(), s.ms.end()));
  if (s.handler_ms.empty()) {
    std::printf(" %9s %9s\n", "-", "-");
  } else {
    std::printf(" %9.3f %9.3f\n", Percentile(s.handler_ms, 0.50), Percentile(s.handler_ms, 0.99));
  }
}

int Run(const Options& o) {
  std::printf("http_load: %zu nodes, %u cores, load average %s, simdjson on-demand kernel %s\n",
              o.nodes, std::thread::hardware_concurrency(), LoadAverage().c_str(),
              SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  std::printf("client: keep-alive, TCP_NODELAY, serial, Accept-Encoding: %s%s, %s\n",
              o.accept_encoding.empty() ? "(none)" : o.accept_encoding.c_str(),
              o.tls ? ", HTTPS (TLS 1.3, no floors)" : "",
              o.poll ? "polls for answers (--client-wait poll)" : "sleeps in recv for answers");
  if (o.send_gbps > 0)
    std::printf("request bodies paced to %.1f Gbit/s (--send-gbps)\n", o.send_gbps);
  std::optional<AwakeCpus> awake;
  if (o.awake_cpus) {
    awake.emplace();
    std::printf("%u of %u CPUs kept awake by a SCHED_IDLE spinner (--awake-cpus)\n",
                awake->spinning(), awake->cpus());
  }

  Config config = BenchConfig();
  if (o.threads > 0) config.extender.worker_threads = o.threads;
  std::optional<TempCertificate> certificate;
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client_tls(
      o.tls ? SSL_CTX_new(TLS_client_method()) : nullptr, SSL_CTX_free);
  if (o.tls) {
    certificate.emplace();
    config.extender.tls.cert_file = certificate->cert_path();
    config.extender.tls.key_file = certificate->key_path();
  }
  std::unique_ptr<ClusterStore> store = NewFilledStore(config, o.nodes);
  SeenPods seen;
  Extender extender(*store, config.scheduling, &seen);
  ExtenderMetrics metrics;
  std::ostringstream log_text;
  Logger log(log_text, 2);  // for the handler times
  ExtenderServer server(config.extender, extender, metrics, log);
  Result<int> port = server.Start();
  if (!port) throw std::runtime_error("extender server: " + port.error());

  const bool want_full = std::find(o.modes.begin(), o.modes.end(), "full") != o.modes.end();
  const std::string names_body = NamesModeBody(o.nodes);
  const std::string full_body = want_full ? FullModeBody(o.nodes) : std::string();
  std::printf("store: %zu nodes, %zu pods bound; extender worker threads: %d\n\n", o.nodes,
              BoundPodCount(o.nodes), config.extender.worker_threads);

  // Each series runs beside its transport floor: a FloorServer answering the exact bytes and
  // Content-Type the extender answered to the same request (asked without Accept-Encoding, so
  // the body is the plain JSON). Requests to the two alternate so that machine noise hits both
  // alike.
  std::vector<Series> results;
  std::vector<Series> floors;
  std::vector<Series> raw_floors;
  for (const std::string& mode : o.modes) {
    const bool full = mode == "full";
    const std::string& body = full ? full_body : names_body;
    const size_t count = full ? o.full_requests : o.requests;
    const size_t warmup = o.warmup > 0 ? o.warmup : (full ? 2 : 50);
    for (const std::string& verb : o.verbs) {
      const std::string path = "/" + verb;
      Series series{mode, verb, body.size(), 0, "", {}, 1, {}};
      Series floor_series{mode, verb + " floor", body.size(), 0, "", {}, 1, {}};
      Series raw_series{mode, verb + " raw floor", body.size(), 0, "", {}, 1, {}};
      Connection conn(*port, client_tls.get(), o.poll, o.send_gbps);
      Response answer = Check(conn, path, body, mode, verb);
      std::unique_ptr<FloorServer> floor;
      std::unique_ptr<Connection> floor_conn;
      std::unique_ptr<RawFloorServer> raw;
      std::unique_ptr<Connection> raw_conn;
      if (o.raw_floor) {
        raw = std::make_unique<RawFloorServer>(answer.body, answer.content_type);
        raw_conn = std::make_unique<Connection>(raw->port(), nullptr, o.poll, o.send_gbps);
      }
      if (o.floor) {
        floor = std::make_unique<FloorServer>(config.extender, std::move(answer.body),
                                              answer.content_type);
        floor_conn = std::make_unique<Connection>(floor->port(), nullptr, o.poll, o.send_gbps);
      }
      for (size_t i = 0; i < warmup; ++i) {
        Timed(conn, path, body, o.accept_encoding, series);
        if (floor_conn) Timed(*floor_conn, path, body, o.accept_encoding, floor_series);
        if (raw_conn) Timed(*raw_conn, path, body, o.accept_encoding, raw_series);
      }
      // The answer to the last request was sent after its log line: nothing writes now.
      log_text.str("");
      for (size_t i = 0; i < count; ++i) {
        series.ms.push_back(Timed(conn, path, body, o.accept_encoding, series));
        if (floor_conn) {
          floor_series.ms.push_back(
              Timed(*floor_conn, path, body, o.accept_encoding, floor_series));
        }
        if (raw_conn) {
          raw_series.ms.push_back(Timed(*raw_conn, path, body, o.accept_encoding, raw_series));
        }
      }
      series.handler_ms = HandlerMillis(log_text.str(), verb);
      series.connections += conn.reconnects();
      if (floor_conn) floor_series.connections += floor_conn->reconnects();
      results.push_back(std::move(series));
      floors.push_back(std::move(floor_series));
      raw_floors.push_back(std::move(raw_series));
    }
  }

  std::printf("%-6s %-17s %8s %5s %10s %10s %-5s %9s %9s %9s %9s %9s %9s\n", "mode", "verb",
              "requests", "conns", "req MB", "resp MB", "enc", "p50 ms", "p90 ms", "p99 ms",
              "max ms", "hdl p50", "hdl p99");
  for (size_t i = 0; i < results.size(); ++i) {
    PrintRow(results[i]);
    if (o.floor) PrintRow(floors[i]);
    if (o.raw_floor) PrintRow(raw_floors[i]);
  }
  std::printf("\n");
  for (size_t i = 0; i < results.size() && o.floor; ++i) {
    const Series& s = results[i];
    std::printf("%s-mode %s p50 / transport floor p50 = %.2f (%.3f ms / %.3f ms)\n", s.mode.c_str(),
                s.verb.c_str(), Percentile(s.ms, 0.5) / Percentile(floors[i].ms, 0.5),
                Percentile(s.ms, 0.5), Percentile(floors[i].ms, 0.5));
  }
  std::printf("load average after: %s\n", LoadAverage().c_str());
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace epc::bench

int main(int argc, char** argv) {
  try {
    return epc::bench::Run(epc::bench::ParseOptions(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "http_load: " << e.what() << "\n";
    return 1;
  }
}
