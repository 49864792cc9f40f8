// BufferedServer: an httplib::Server that makes a handful of system calls per request.
//
// httplib 0.11 reads a connection 4 KiB at a time and polls the socket before every read and
// every write, with a new stream (and read buffer) per request. A names-mode filter at 5,000
// nodes (0.15 MB in, 0.29 MB out) took ~80 system calls that way, ~0.2 ms on a 2-vCPU VM: more
// than the kernel's loopback transport of the same bytes. BufferedServer keeps everything of
// httplib above the socket (parsing, routing, handlers, error handler, answers) and replaces
// only the stream underneath, through the hook httplib's own SSLServer overrides
// (process_and_close_socket): one stream per connection that
//   - reads up to kReadBufferBytes per recv, blocking under SO_RCVTIMEO (the read timeout)
//     instead of polling first; bytes a client sent ahead (a pipelined request) stay buffered
//     for the next request rather than being dropped with a per-request stream;
//   - sends a response's head together with its body in one writev under SO_SNDTIMEO: a small
//     write is held until the next write or until the stream is about to wait for the client.
// BufferedSSLServer does the same over TLS for httplib::SSLServer (same constructor, same
// certificate and client-certificate checks: the SSL_CTX is httplib's), whose own stream reads
// 4 KiB at a time with a poll before each read: a full-mode request of 45 MB took 11,000 of each.
// Its reads return a TLS record (16 KiB) at a time.
#pragma once

#include <httplib.h>

namespace epc {

class BufferedServer : public httplib::Server {
 public:
  static constexpr size_t kReadBufferBytes = 256 << 10;

 private:
  bool process_and_close_socket(socket_t sock) override;
};

class BufferedSSLServer : public httplib::SSLServer {
 public:
  using httplib::SSLServer::SSLServer;

 private:
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace epc
