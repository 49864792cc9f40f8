// BufferedServer and BufferedSSLServer: httplib's parsing and routing over one buffered stream
// per connection, over plain TCP and over TLS. Every case runs against both.
#include "scheduler/http/buffered_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <charconv>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/testing/certs.h"

namespace epc {
namespace {

using Clock = std::chrono::steady_clock;

// A BufferedServer, or with `certs` a BufferedSSLServer, on 127.0.0.1 with a few routes, served
// on its own thread.
class Served {
 public:
  explicit Served(const testing::TestCerts* certs, size_t keep_alive_max = 100,
                  time_t read_timeout_sec = 5)
      : owned_(certs == nullptr
                   ? std::unique_ptr<httplib::Server>(std::make_unique<BufferedServer>())
                   : std::make_unique<BufferedSSLServer>(certs->server_cert.c_str(),
                                                         certs->server_key.c_str())),
        server_(*owned_) {
    server_.set_keep_alive_max_count(keep_alive_max);
    server_.set_read_timeout(read_timeout_sec);
    server_.Post("/echo", [](const httplib::Request&, httplib::Response& res,
                             const httplib::ContentReader& reader) {
      std::string body;
      if (!reader([&](const char* data, size_t size) {
            body.append(data, size);
            return true;
          })) {
        res.status = 400;
        res.set_content("unreadable body", "text/plain");
        return;
      }
      res.set_content(body, "application/octet-stream");
    });
    server_.Get("/big", [](const httplib::Request& req, httplib::Response& res) {
      const std::string n = req.get_param_value("n");
      size_t size = 0;
      std::from_chars(n.data(), n.data() + n.size(), size);
      std::string body(size, '\0');
      for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 23);
      res.set_content(body, "text/plain");
    });
    server_.Get("/peer", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.remote_addr + " " + req.local_addr, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Served() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> owned_;
  httplib::Server& server_;
  int port_ = -1;
  std::thread thread_;
};

struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

// A raw client connection, plain or (tls) TLS without verifying the server: what is sent is
// exactly the bytes given.
class Raw {
 public:
  Raw(int port, bool tls)
      : fd_(socket(AF_INET, SOCK_STREAM, 0)),
        ctx_(tls ? SSL_CTX_new(TLS_client_method()) : nullptr, SSL_CTX_free),
        ssl_(nullptr, SSL_free) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connected_ && ctx_) {
      ssl_.reset(SSL_new(ctx_.get()));
      connected_ = ssl_ && SSL_set_fd(ssl_.get(), fd_) == 1 && SSL_connect(ssl_.get()) == 1;
    }
  }
  ~Raw() {
    ssl_.reset();
    close(fd_);
  }
  bool connected() const { return connected_; }

  void Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          ssl_ ? SSL_write(ssl_.get(), bytes.data() + sent, static_cast<int>(bytes.size() - sent))
               : send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send failed";
      sent += static_cast<size_t>(n);
    }
  }

  // The next response (head up to the blank line, then Content-Length bytes); status 0 when
  // the connection ended first.
  Answer Read() {
    Answer a;
    size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return a;
    }
    a.head = in_.substr(0, end + 4);
    in_.erase(0, end + 4);
    a.status = std::atoi(a.head.substr(9, 3).c_str());
    size_t length = 0;
    if (size_t at = a.head.find("Content-Length: "); at != std::string::npos) {
      std::from_chars(a.head.data() + at + 16, a.head.data() + a.head.size(), length);
    }
    while (in_.size() < length) {
      if (!Fill()) return Answer{};
    }
    a.body = in_.substr(0, length);
    in_.erase(0, length);
    return a;
  }

  // Whether the server closed the connection (end of stream before any more bytes).
  bool ClosedByServer() { return in_.empty() && !Fill(); }

 private:
  bool Fill() {
    char buf[65536];
    const ssize_t n = ssl_ ? SSL_read(ssl_.get(), buf, sizeof buf) : recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
  bool connected_ = false;
  std::string in_;
};

std::string Post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}
std::string Get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

// Each case over plain TCP (BufferedServer) and over TLS (BufferedSSLServer).
class BufferedServerTest : public ::testing::TestWithParam<bool> {
 protected:
  bool tls() const { return GetParam(); }
  std::unique_ptr<Served> Serve(size_t keep_alive_max = 100, time_t read_timeout_sec = 5) {
    if (tls() && !certs_) {
      certs_ = std::make_unique<testing::TestCerts>();
      if (!certs_->ok) ADD_FAILURE() << "openssl could not make test certificates";
    }
    return std::make_unique<Served>(tls() ? certs_.get() : nullptr, keep_alive_max,
                                    read_timeout_sec);
  }
  Raw Connect(const Served& s) { return Raw(s.port(), tls()); }
  // httplib's own client, kept alive.
  std::unique_ptr<httplib::ClientImpl> Client(const Served& s) {
    std::unique_ptr<httplib::ClientImpl> cli =
        tls() ? std::unique_ptr<httplib::ClientImpl>(
                    std::make_unique<httplib::SSLClient>("127.0.0.1", s.port()))
              : std::make_unique<httplib::ClientImpl>("127.0.0.1", s.port());
    cli->set_keep_alive(true);
    cli->enable_server_certificate_verification(false);  // the test CA is not the system's
    return cli;
  }

 private:
  std::unique_ptr<testing::TestCerts> certs_;
};

INSTANTIATE_TEST_SUITE_P(PlainAndTls, BufferedServerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Tls" : "Plain";
                         });

TEST_P(BufferedServerTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  ASSERT_TRUE(c.connected());
  // Three requests in one write: what arrives past the first must not be lost.
  c.Send(Post("/echo", "first") + Get("/big?n=7") + Post("/echo", "third"));
  Answer a = c.Read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "first");
  a = c.Read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "abcdefg");
  a = c.Read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "third");
}

// The same, written one request at a time before any answer is read: over TLS each request is
// its own record, and the ones the session read ahead from the socket wait in its buffer, not
// in the socket, so the next request must not wait for the socket to become readable.
TEST_P(BufferedServerTest, PipelinedRequestsInSeparateWritesAreAnsweredInOrder) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) c.Send(Post("/echo", "request " + std::to_string(i)));
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const Answer a = c.Read();
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "request " + std::to_string(i));
  }
  // Not one read timeout (5 s) waited for a request already received.
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
}

TEST_P(BufferedServerTest, LargeBodiesBothWaysArriveWhole) {
  const std::unique_ptr<Served> s = Serve();
  const std::unique_ptr<httplib::ClientImpl> cli = Client(*s);
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  for (int round = 0; round < 2; ++round) {  // the second on the kept-alive connection
    auto res = cli->Post("/echo", big, "application/octet-stream");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(res->body == big) << "echo of " << big.size() << " bytes differs";
    res = cli->Get("/big?n=5000000");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->body.size(), 5000000u);
    EXPECT_EQ(res->body[4999999], static_cast<char>('a' + 4999999 % 23));
  }
}

TEST_P(BufferedServerTest, SmallAnswersAreSentBeforeWaitingForTheNextRequest) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  // Head and body together are under what the stream holds back; the answer must still go out
  // while the connection then sits idle.
  c.Send(Get("/big?n=3"));
  const Answer a = c.Read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "abc");
}

TEST_P(BufferedServerTest, ExpectContinueIsSentBeforeTheBodyIsRead) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  // The client sends no body until it has the interim answer.
  const Answer interim = c.Read();
  EXPECT_EQ(interim.status, 100);
  c.Send("hello");
  const Answer a = c.Read();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hello");
}

TEST_P(BufferedServerTest, TheLastRequestOfTheKeepAliveCountClosesTheConnection) {
  const std::unique_ptr<Served> s = Serve(/*keep_alive_max=*/3);
  Raw c = Connect(*s);
  for (int i = 0; i < 3; ++i) {
    c.Send(Get("/big?n=1"));
    const Answer a = c.Read();
    ASSERT_EQ(a.status, 200) << "request " << i;
    EXPECT_EQ(a.head.find("Connection: close") != std::string::npos, i == 2) << a.head;
  }
  EXPECT_TRUE(c.ClosedByServer());
}

TEST_P(BufferedServerTest, RequestsKnowThePeer) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  c.Send(Get("/peer"));
  EXPECT_EQ(c.Read().body, "127.0.0.1 127.0.0.1");
}

TEST_P(BufferedServerTest, AStalledBodyMeetsTheReadTimeout) {
  const std::unique_ptr<Served> s = Serve(/*keep_alive_max=*/100, /*read_timeout_sec=*/1);
  Raw c = Connect(*s);
  const auto start = Clock::now();
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten..");
  const Answer a = c.Read();
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(a.status, 400);
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 5.0);
  // The worker is free again: another connection is served.
  Raw other = Connect(*s);
  other.Send(Get("/big?n=2"));
  EXPECT_EQ(other.Read().body, "ab");
}

TEST_P(BufferedServerTest, StopIsPromptWithIdleKeptAliveConnections) {
  const std::unique_ptr<Served> s = Serve();
  Raw c = Connect(*s);
  c.Send(Get("/big?n=1"));
  ASSERT_EQ(c.Read().status, 200);
  // The connection stays open and idle (keep-alive timeout 5 s); stopping must not wait for it.
  const auto start = Clock::now();
  s->Stop();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 1.0);
  EXPECT_TRUE(c.ClosedByServer());
}

}  // namespace
}  // namespace epc
