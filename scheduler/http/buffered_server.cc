#include "scheduler/http/buffered_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace epc {

namespace {

// How often a connection waiting for its next request looks whether the server is stopping
// (httplib's own keep-alive wait looks every 10 ms too).
constexpr int kStopCheckMillis = 10;
// Writes up to this size are held to go out with the next one (a response's head, ~150 bytes,
// goes with its body).
constexpr size_t kHoldBytes = 16 << 10;
// How much a TLS session reads from the socket at once.
constexpr size_t kTlsReadAheadBytes = 128 << 10;

void SetTimeout(socket_t sock, int option, time_t sec, time_t usec) {
  timeval tv{};
  tv.tv_sec = sec;
  tv.tv_usec = static_cast<suseconds_t>(usec);
  setsockopt(sock, SOL_SOCKET, option, &tv, sizeof tv);
}

int Millis(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

bool AddressOf(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, service,
                  sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  ip = host;
  port = std::atoi(service);
  return true;
}

// What a ConnectionStream moves its bytes through: the socket itself, or a TLS session on it.
// Both block, bounded by the socket's SO_RCVTIMEO and SO_SNDTIMEO.
class Transport {
 public:
  virtual ~Transport() = default;
  // Up to `size` bytes into `buf`: > 0 bytes, 0 at end of stream, < 0 on error or timeout.
  virtual ssize_t Receive(char* buf, size_t size) = 0;
  // Sends every byte of `parts` (iov_len 0 allowed); false when the connection failed.
  virtual bool SendAll(std::span<iovec> parts) = 0;
  // Whether bytes were received that Receive has not returned yet (TLS decrypts a whole record
  // while a read may ask for less): the socket then has nothing to poll for.
  virtual bool Pending() const { return false; }
};

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(socket_t sock) : sock_(sock) {}

  ssize_t Receive(char* buf, size_t size) override {
    ssize_t n;
    do {
      n = recv(sock_, buf, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  // As few sendmsg calls as the socket allows: a response's head and body go out together.
  bool SendAll(std::span<iovec> parts) override {
    iovec* next = parts.data();
    size_t left_parts = parts.size();
    while (left_parts > 0 && next->iov_len == 0) {
      ++next;
      --left_parts;
    }
    while (left_parts > 0) {
      msghdr msg{};
      msg.msg_iov = next;
      msg.msg_iovlen = left_parts;
      const ssize_t n = sendmsg(sock_, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;  // closed, or the write timeout passed
      }
      for (size_t done = static_cast<size_t>(n); left_parts > 0;) {
        const size_t take = std::min(done, next->iov_len);
        next->iov_base = static_cast<char*>(next->iov_base) + take;
        next->iov_len -= take;
        done -= take;
        if (next->iov_len > 0) break;
        ++next;
        --left_parts;
      }
    }
    return true;
  }

 private:
  const socket_t sock_;
};

// A TLS session (not owned) whose handshake is done.
class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}

  // One TLS record's worth at the most (16 KiB), however large `size`.
  ssize_t Receive(char* buf, size_t size) override {
    const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    if (n > 0) return n;
    return SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  bool SendAll(std::span<iovec> parts) override {
    for (const iovec& part : parts) {
      const char* data = static_cast<const char*>(part.iov_base);
      for (size_t left = part.iov_len; left > 0;) {
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(left, INT_MAX)));
        if (n <= 0) return false;
        data += n;
        left -= static_cast<size_t>(n);
      }
    }
    return true;
  }

  // SSL_has_pending, not SSL_pending: with read-ahead, bytes of the next records may wait in
  // the session's buffer unprocessed, and the socket then has nothing left to poll for.
  bool Pending() const override { return SSL_has_pending(ssl_) == 1; }

 private:
  SSL* const ssl_;
};

// One connection's stream, for all of its requests. Not thread-safe (one worker serves a
// connection).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Transport& transport, socket_t sock, int read_timeout_ms, int write_timeout_ms)
      : transport_(transport),
        sock_(sock),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms),
        in_(std::make_unique_for_overwrite<char[]>(BufferedServer::kReadBufferBytes)) {}

  // As httplib's own stream: ready within the read (write) timeout.
  bool is_readable() const override {
    return begin_ < end_ || transport_.Pending() || Poll(POLLIN, read_timeout_ms_);
  }
  bool is_writable() const override { return Poll(POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      // The client may be waiting for what is held (a 100 Continue, an answer) before it sends.
      if (!Flush()) return -1;
      const ssize_t n = Receive();
      if (n <= 0) return n;
    }
    const size_t take = std::min(size, end_ - begin_);
    std::memcpy(ptr, in_.get() + begin_, take);
    begin_ += take;
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (held_.size() + size <= kHoldBytes) {
      held_.append(ptr, size);
      return static_cast<ssize_t>(size);
    }
    if (!SendAll(ptr, size)) return -1;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      AddressOf(addr, len, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      AddressOf(addr, len, ip, port);
    }
  }
  socket_t socket() const override { return sock_; }

  // Sends what is held. False when the connection failed.
  bool Flush() { return held_.empty() || SendAll(nullptr, 0); }

  // Waits up to `timeout` for the client's next request, looking every kStopCheckMillis whether
  // `server_socket` was closed (the server stopping). False on timeout or stop.
  bool WaitForRequest(std::chrono::seconds timeout, const std::atomic<socket_t>& server_socket) {
    if (begin_ < end_ || transport_.Pending()) return true;  // sent ahead of our answer
    if (!Flush()) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (server_socket != INVALID_SOCKET) {
      if (Poll(POLLIN, kStopCheckMillis)) return true;  // a request, or the client closed
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return false;
  }

 private:
  bool Poll(short events, int timeout_ms) const {
    pollfd p{sock_, events, 0};
    int n;
    do {
      n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0;
  }

  // Fills the empty buffer with what the transport has: > 0 bytes, 0 at end of stream, -1 on
  // error or read timeout.
  ssize_t Receive() {
    const ssize_t n = transport_.Receive(in_.get(), BufferedServer::kReadBufferBytes);
    begin_ = 0;
    end_ = n > 0 ? static_cast<size_t>(n) : 0;
    return n;
  }

  // Sends held_ then data[0, size); clears held_.
  bool SendAll(const char* data, size_t size) {
    iovec parts[2] = {{held_.data(), held_.size()}, {const_cast<char*>(data), size}};
    const bool ok = transport_.SendAll(parts);
    held_.clear();
    return ok;
  }

  Transport& transport_;
  const socket_t sock_;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
  std::unique_ptr<char[]> in_;
  size_t begin_ = 0;  // unread bytes are in_[begin_, end_)
  size_t end_ = 0;
  std::string held_;
};

// What a connection's requests are served with: the server's settings and its process_request
// (protected in httplib::Server, so the servers hand it in).
struct ConnectionSettings {
  size_t keep_alive_max_count;
  std::chrono::seconds keep_alive_timeout;
  int read_timeout_ms;
  int write_timeout_ms;
  const std::atomic<socket_t>& server_socket;
  std::function<bool(httplib::Stream&, bool close_connection, bool& connection_closed)> process;
};

// Serves one connection's requests until the client or the keep-alive count ends it. True when
// the last request was served and its answer sent.
bool ServeConnection(Transport& transport, socket_t sock, const ConnectionSettings& settings) {
  ConnectionStream stream(transport, sock, settings.read_timeout_ms, settings.write_timeout_ms);
  bool ok = false;
  for (size_t left = settings.keep_alive_max_count; left > 0; --left) {
    if (!stream.WaitForRequest(settings.keep_alive_timeout, settings.server_socket)) break;
    bool connection_closed = false;
    // The last request httplib's own count allows is answered with "Connection: close".
    ok = settings.process(stream, left == 1, connection_closed);
    if (!ok || connection_closed) break;
  }
  return stream.Flush() && ok;
}

}  // namespace

bool BufferedServer::process_and_close_socket(socket_t sock) {
  SetTimeout(sock, SO_RCVTIMEO, read_timeout_sec_, read_timeout_usec_);
  SetTimeout(sock, SO_SNDTIMEO, write_timeout_sec_, write_timeout_usec_);
  SocketTransport transport(sock);
  const bool ok = ServeConnection(
      transport, sock,
      {keep_alive_max_count_, std::chrono::seconds(keep_alive_timeout_sec_),
       Millis(read_timeout_sec_, read_timeout_usec_),
       Millis(write_timeout_sec_, write_timeout_usec_), svr_sock_,
       [this](httplib::Stream& stream, bool close_connection, bool& connection_closed) {
         return process_request(stream, close_connection, connection_closed, nullptr);
       }});
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

bool BufferedSSLServer::process_and_close_socket(socket_t sock) {
  // The handshake blocks like every later read and write, bounded by the same timeouts: a
  // client that connects and sends nothing is dropped after the read timeout.
  SetTimeout(sock, SO_RCVTIMEO, read_timeout_sec_, read_timeout_usec_);
  SetTimeout(sock, SO_SNDTIMEO, write_timeout_sec_, write_timeout_usec_);
  bool ok = false;
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ssl_context()), SSL_free);
  if (ssl) {
    // Read ahead into a large buffer: without it OpenSSL reads each record with two read calls
    // (its header, then its body), ~20 for a names-mode request.
    SSL_set_read_ahead(ssl.get(), 1);
    SSL_set_default_read_buffer_len(ssl.get(), kTlsReadAheadBytes);
  }
  // SSL_get_error reads this thread's error queue, which an earlier connection on this worker
  // may have left errors in.
  ERR_clear_error();
  if (ssl && SSL_set_fd(ssl.get(), sock) == 1 && SSL_accept(ssl.get()) == 1) {
    TlsTransport transport(ssl.get());
    SSL* const session = ssl.get();
    ok = ServeConnection(
        transport, sock,
        {keep_alive_max_count_, std::chrono::seconds(keep_alive_timeout_sec_),
         Millis(read_timeout_sec_, read_timeout_usec_),
         Millis(write_timeout_sec_, write_timeout_usec_), svr_sock_,
         [this, session](httplib::Stream& stream, bool close_connection, bool& connection_closed) {
           return process_request(stream, close_connection, connection_closed,
                                  [session](httplib::Request& req) { req.ssl = session; });
         }});
    if (ok) SSL_shutdown(ssl.get());  // close_notify, as httplib's SSLServer sends it
  }
  ERR_clear_error();
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace epc
