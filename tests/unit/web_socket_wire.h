/* A peer's view of RFC 6455 frames for the WebSocket tests: the frames a client or a server puts on
 * the wire, byte for byte, the frames read back from the other end, and one end of a raw TCP
 * connection on 127.0.0.1 to carry them, driven from the test thread. Header-only, shared by
 * web_socket_test.cpp (whose raw peer is a client) and web_socket_client_test.cpp (a server). */
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include <glib.h>

namespace clawvoice::test::ws {

/* Runs @context (or, when null, only checks, for peers on other threads) until @done holds or
 * @timeout_ms passed; whether it holds. */
inline bool run_until(GMainContext *context, const std::function<bool()> &done, int timeout_ms)
{
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done()) {
    if (g_get_monotonic_time() >= deadline)
      return done();
    if (!context || !g_main_context_iteration(context, FALSE))
      g_usleep(300);   /* nothing was ready: do not spin */
  }
  return true;
}

/* Dispatches whatever is ready now, without waiting; at most @most_iterations, so a source that is
 * always ready cannot hold the test. */
inline void drain(GMainContext *context, int most_iterations = 100)
{
  for (int i = 0; i < most_iterations && g_main_context_iteration(context, FALSE); i++) {
  }
}

/* ---- frames (§5.2) ---- */

enum Opcode : int { kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };

/* One frame with the shortest length form; when @masked, the payload is masked with @mask_key (§5.3). */
inline std::string encode_frame(int opcode, const std::string &payload, bool fin, int rsv, bool masked,
                                uint32_t mask_key)
{
  std::string out;
  out += char((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xF));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  const uint64_t n = payload.size();
  if (n < 126) {
    out += char(mask_bit | n);
  } else if (n < 65536) {
    out += char(mask_bit | 126);
    out += char(n >> 8);
    out += char(n & 0xFF);
  } else {
    out += char(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += char((n >> shift) & 0xFF);
  }
  if (!masked)
    return out + payload;
  const uint8_t key[4] = {uint8_t(mask_key >> 24), uint8_t(mask_key >> 16), uint8_t(mask_key >> 8), uint8_t(mask_key)};
  out.append(reinterpret_cast<const char *>(key), 4);
  for (size_t i = 0; i < payload.size(); i++)
    out += char(uint8_t(payload[i]) ^ key[i % 4]);
  return out;
}

/* One frame as a client sends it: masked unless told otherwise (§5.1). */
inline std::string client_frame(int opcode, const std::string &payload, bool fin = true, int rsv = 0,
                                bool masked = true, uint32_t mask_key = 0x37fa213d)
{
  return encode_frame(opcode, payload, fin, rsv, masked, mask_key);
}

/* One frame as a server sends it: unmasked unless told otherwise (a server must not mask, §5.1). */
inline std::string server_frame(int opcode, const std::string &payload, bool masked = false, bool fin = true)
{
  return encode_frame(opcode, payload, fin, 0, masked, 0x129c5ea7);
}

/* The payload of a close frame (§5.5.1): the code big-endian, then the reason. */
inline std::string close_payload(gushort code, const std::string &reason = "")
{
  return std::string{char(code >> 8), char(code & 0xFF)} + reason;
}

/* A frame as read from the other end, its payload unmasked. */
struct WireFrame {
  bool fin = false;
  int rsv = 0;
  int opcode = -1;
  bool masked = false;
  uint32_t mask_key = 0;
  int length_bits = 0;   /* 7, 16 or 64: the length form used */
  std::string payload;

  gushort close_code() const { return payload.size() >= 2 ? gushort((uint8_t(payload[0]) << 8) | uint8_t(payload[1])) : 0; }
  std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : ""; }
};

/* Takes one whole frame off the front of @buffer, if there is one. */
inline bool take_wire_frame(std::string &buffer, WireFrame *f)
{
  if (buffer.size() < 2)
    return false;
  const auto *b = reinterpret_cast<const uint8_t *>(buffer.data());
  size_t pos = 2;
  uint64_t n = b[1] & 0x7F;
  int bits = 7;
  if (n == 126) {
    if (buffer.size() < 4)
      return false;
    n = (uint64_t(b[2]) << 8) | b[3];
    pos = 4;
    bits = 16;
  } else if (n == 127) {
    if (buffer.size() < 10)
      return false;
    n = 0;
    for (int i = 0; i < 8; i++)
      n = (n << 8) | b[2 + i];
    pos = 10;
    bits = 64;
  }
  const bool masked = b[1] & 0x80;
  uint8_t key[4] = {0, 0, 0, 0};
  if (masked) {
    if (buffer.size() < pos + 4)
      return false;
    memcpy(key, b + pos, 4);
    pos += 4;
  }
  if (buffer.size() < pos + n)
    return false;
  f->fin = b[0] & 0x80;
  f->rsv = (b[0] >> 4) & 7;
  f->opcode = b[0] & 0xF;
  f->masked = masked;
  f->mask_key = (uint32_t(key[0]) << 24) | (uint32_t(key[1]) << 16) | (uint32_t(key[2]) << 8) | key[3];
  f->length_bits = bits;
  f->payload = buffer.substr(pos, n);
  for (size_t i = 0; masked && i < f->payload.size(); i++)
    f->payload[i] = char(uint8_t(f->payload[i]) ^ key[i % 4]);
  buffer.erase(0, pos + n);
  return true;
}

/* ---- raw TCP on 127.0.0.1 ---- */

/* 127.0.0.1:@port; port 0 binds to any free one. */
inline sockaddr_in loopback_address(guint16 port = 0)
{
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  return address;
}

/* The port @fd is bound to; 0 when it cannot say. */
inline guint16 bound_port(int fd)
{
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
    return 0;
  return ntohs(address.sin_port);
}

/* Small writes go out as written, not held back to be joined with the next (Nagle). */
inline void send_without_delay(int fd)
{
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* One end of a TCP connection, non-blocking, driven from the test thread; whenever it waits it runs
 * the context it was given (the other end's, when that end lives in this thread; null when it runs
 * on a thread of its own). Every wait is bounded by kBoundMs unless told otherwise. Subclasses make
 * the connection and put it in fd_. */
template <int kBoundMs>
class RawPeer {
 public:
  explicit RawPeer(GMainContext *context) : context_(context) {}
  ~RawPeer() { close_now(); }
  RawPeer(const RawPeer &) = delete;
  RawPeer &operator=(const RawPeer &) = delete;

  /* Writes all of @bytes, running the context while the socket is full. Stops at an error (an end
   * that failed the connection may have closed it already: write_failed) and after kBoundMs of a
   * full socket (the other end stopped reading: write_stalled; what that means is the test's to say). */
  void send(const std::string &bytes)
  {
    size_t off = 0;
    const gint64 deadline = g_get_monotonic_time() + gint64(kBoundMs) * 1000;
    while (off < bytes.size() && fd_ >= 0) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += size_t(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (g_get_monotonic_time() > deadline) {
          write_stalled = true;
          return;
        }
        if (!context_ || !g_main_context_iteration(context_, FALSE))
          g_usleep(300);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        write_failed = true;
        return;
      }
    }
  }

  /* Reads the other end's next frame; false after @timeout_ms or at the end of the connection. */
  bool read_frame(WireFrame *f, int timeout_ms = kBoundMs)
  {
    bool got = false;
    wait([&] {
      fill();
      got = take_wire_frame(in_, f);
      return got || eof;
    }, timeout_ms);
    return got;
  }

  /* Waits until the other end ends the TCP connection; true if it did within @timeout_ms. */
  bool wait_eof(int timeout_ms = kBoundMs)
  {
    return wait([&] {
      fill();
      return eof;
    }, timeout_ms);
  }

  /* Bytes received and not taken as an HTTP head or frames. */
  const std::string &unread() const { return in_; }

  /* Ends the TCP connection at once, without a close frame. */
  void close_now()
  {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  bool eof = false, reset = false, write_failed = false, write_stalled = false;

 protected:
  bool wait(const std::function<bool()> &done, int timeout_ms = kBoundMs) { return run_until(context_, done, timeout_ms); }

  /* Reads an HTTP head, up to and with the empty line that ends it, into @head. */
  bool take_http_head(std::string *head)
  {
    size_t end = std::string::npos;
    wait([&] {
      fill();
      end = in_.find("\r\n\r\n");
      return end != std::string::npos || eof;
    });
    if (end == std::string::npos)
      return false;
    *head = in_.substr(0, end + 4);
    in_.erase(0, end + 4);
    return true;
  }

  /* Appends whatever has arrived to in_, without waiting. */
  void fill()
  {
    if (fd_ < 0 || eof)
      return;
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buffer, size_t(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      reset = n < 0;   /* ECONNRESET: the other end closed with our bytes unread — still an end */
      eof = true;
      return;
    }
  }

  GMainContext *context_;
  int fd_ = -1;
  std::string in_;
};

}  // namespace clawvoice::test::ws
