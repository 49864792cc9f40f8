#include "scheduler/http/buffered_server.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace epc {

namespace {

// How often a connection waiting for its next request looks whether the server is stopping
// (httplib's own keep-alive wait looks every 10 ms too).
constexpr int kStopCheckMillis = 10;
// Writes up to this size are held to go out with the next one (a response's head, ~150 bytes,
// goes with its body).
constexpr size_t kHoldBytes = 16 << 10;

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

// One connection's stream, for all of its requests. Not thread-safe (one worker serves a
// connection).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, int read_timeout_ms, int write_timeout_ms)
      : sock_(sock),
        read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms),
        in_(std::make_unique_for_overwrite<char[]>(BufferedServer::kReadBufferBytes)) {}

  // As httplib's own stream: ready within the read (write) timeout.
  bool is_readable() const override { return begin_ < end_ || Poll(POLLIN, read_timeout_ms_); }
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
    if (begin_ < end_) return true;  // sent ahead of our answer
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

  // Fills the empty buffer with what the socket has: > 0 bytes, 0 at end of stream, -1 on error
  // or read timeout.
  ssize_t Receive() {
    ssize_t n;
    do {
      n = recv(sock_, in_.get(), BufferedServer::kReadBufferBytes, 0);
    } while (n < 0 && errno == EINTR);
    begin_ = 0;
    end_ = n > 0 ? static_cast<size_t>(n) : 0;
    return n;
  }

  // Sends held_ then data[0, size) with as few calls as the socket allows; clears held_.
  bool SendAll(const char* data, size_t size) {
    iovec parts[2] = {{held_.data(), held_.size()}, {const_cast<char*>(data), size}};
    iovec* next = held_.empty() ? parts + 1 : parts;
    size_t left_parts = static_cast<size_t>(parts + 2 - next);
    if (size == 0) --left_parts;
    bool ok = true;
    while (left_parts > 0) {
      msghdr msg{};
      msg.msg_iov = next;
      msg.msg_iovlen = left_parts;
      const ssize_t n = sendmsg(sock_, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        ok = false;  // closed, or the write timeout passed
        break;
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
    held_.clear();
    return ok;
  }

  const socket_t sock_;
  const int read_timeout_ms_;
  const int write_timeout_ms_;
  std::unique_ptr<char[]> in_;
  size_t begin_ = 0;  // unread bytes are in_[begin_, end_)
  size_t end_ = 0;
  std::string held_;
};

}  // namespace

bool BufferedServer::process_and_close_socket(socket_t sock) {
  SetTimeout(sock, SO_RCVTIMEO, read_timeout_sec_, read_timeout_usec_);
  SetTimeout(sock, SO_SNDTIMEO, write_timeout_sec_, write_timeout_usec_);
  bool ok = false;
  {
    ConnectionStream stream(sock, Millis(read_timeout_sec_, read_timeout_usec_),
                            Millis(write_timeout_sec_, write_timeout_usec_));
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (!stream.WaitForRequest(std::chrono::seconds(keep_alive_timeout_sec_), svr_sock_)) break;
      bool connection_closed = false;
      // The last request httplib's own count allows is answered with "Connection: close".
      ok = process_request(stream, left == 1, connection_closed, nullptr);
      if (!ok || connection_closed) break;
    }
    if (!stream.Flush()) ok = false;
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace epc
