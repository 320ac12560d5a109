#include "net/web_socket.h"

#include "net/context_runner.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>

#include <cstring>
#include <memory>

namespace clawvoice::net {
namespace {

enum Opcode : guint8 { kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA };

constexpr gsize kReadChunk = 16 * 1024;
constexpr gsize kMaxControlPayload = 125;
constexpr gsize kMaxCloseReason = kMaxControlPayload - 2;

/* Codes a close frame may carry (RFC 6455 §7.4.1–2): 1004–1006 and 1015 are reserved for reports,
 * never sent; 1012–2999 are for future standards; 3000–4999 are for libraries and applications. */
bool close_code_may_be_sent(guint code)
{
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/* UTF-8 as RFC 3629 has it, NUL included (g_utf8_validate() refuses a NUL byte inside the length
 * it is given). Returns where the valid text ends in @end. */
bool valid_utf8(const char *data, gsize length, gsize *end = nullptr)
{
  /* JSON from Twilio and the Realtime API is nearly always ASCII: 8 bytes at a time first. */
  gsize ascii = 0;
  for (; ascii + 8 <= length; ascii += 8) {
    guint64 word;
    memcpy(&word, data + ascii, 8);
    if (word & 0x8080808080808080ULL)
      break;
  }
  while (ascii < length && !(data[ascii] & 0x80))
    ascii++;
  if (ascii == length) {
    if (end)
      *end = length;
    return true;
  }
  gsize at = 0;
  while (at < length) {
    const char *nul = static_cast<const char *>(memchr(data + at, '\0', length - at));
    gsize piece = nul ? (gsize) (nul - (data + at)) : length - at;
    const gchar *stop = nullptr;
    if (!g_utf8_validate(data + at, (gssize) piece, &stop)) {
      if (end)
        *end = (gsize) (stop - data);
      return false;
    }
    at += piece + (nul ? 1 : 0);
  }
  if (end)
    *end = length;
  return true;
}

/* The TCP socket under @stream when nothing that holds bytes of its own sits between them (libsoup
 * wraps the connection in a SoupIOStream, whose reader holds bytes only while it reads headers). */
GSocket *plain_socket_of(GIOStream *stream)
{
  GIOStream *at = G_IO_STREAM(g_object_ref(stream));
  GSocket *socket = nullptr;
  for (int depth = 0; at && depth < 4 && !socket; depth++) {
    if (G_IS_TCP_WRAPPER_CONNECTION(at))
      break;   /* a socket under something else (TLS over a proxy's tunnel, say): read through it */
    if (G_IS_SOCKET_CONNECTION(at)) {
      socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(at));   /* owned by the stream */
      break;
    }
    if (G_IS_TLS_CONNECTION(at) || !g_object_class_find_property(G_OBJECT_GET_CLASS(at), "base-iostream"))
      break;   /* TLS keeps decrypted bytes of its own: read through it */
    GIOStream *base = nullptr;
    g_object_get(at, "base-iostream", &base, nullptr);
    g_object_unref(at);
    at = base;
  }
  if (at)
    g_object_unref(at);
  return socket;
}

void append_frame_header(std::string &out, guint8 opcode, gsize length, bool masked)
{
  const char mask_bit = masked ? (char) 0x80 : 0;
  out.push_back((char) (0x80 | opcode));   /* FIN: we never fragment */
  if (length < 126) {
    out.push_back((char) (mask_bit | (char) length));
  } else if (length <= 0xFFFF) {
    out.push_back((char) (mask_bit | 126));
    out.push_back((char) (length >> 8));
    out.push_back((char) (length & 0xFF));
  } else {
    out.push_back((char) (mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back((char) ((guint64) length >> shift));
  }
}

/* Masking keys for a client's frames (§5.3): xoshiro256** seeded from the kernel per connection.
 * The masks only keep a client's payload from steering what a proxy sees on the wire; libsoup draws
 * them from GLib's Mersenne Twister, behind a lock, for every frame. */
class MaskKeys {
 public:
  MaskKeys()
  {
    if (getrandom(state_, sizeof state_, 0) != (ssize_t) sizeof state_)
      for (guint64 &word : state_)
        word = ((guint64) g_random_int() << 32) | g_random_int();
    if (!(state_[0] | state_[1] | state_[2] | state_[3]))
      state_[0] = 1;
  }
  guint32 next()
  {
    const guint64 result = rotl(state_[1] * 5, 7) * 9;
    const guint64 t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return (guint32) (result >> 32);
  }

 private:
  static guint64 rotl(guint64 x, int k) { return (x << k) | (x >> (64 - k)); }
  guint64 state_[4];
};

/* @out += @payload XOR the 4-byte @key, repeated. */
void append_masked(std::string &out, const char *payload, gsize length, const guint8 key[4])
{
  const gsize at = out.size();
  out.append(payload, length);
  auto *bytes = reinterpret_cast<guint8 *>(&out[at]);
  guint64 wide;
  guint8 key8[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
  memcpy(&wide, key8, 8);
  gsize i = 0;
  for (; i + 8 <= length; i += 8) {
    guint64 chunk;
    memcpy(&chunk, bytes + i, 8);
    chunk ^= wide;
    memcpy(bytes + i, &chunk, 8);
  }
  for (; i < length; i++)
    bytes[i] ^= key[i & 3];
}

}  // namespace
}  // namespace clawvoice::net

using namespace clawvoice::net;

struct WebSocketPrivate {
  GIOStream *stream = nullptr;
  GPollableInputStream *input = nullptr;
  GPollableOutputStream *output = nullptr;
  GSocket *socket = nullptr;         /* the TCP socket under a plain (not TLS) stream, else null */
  GMainContext *context = nullptr;
  GSource *read_source = nullptr;    /* for the connection's whole life, until the socket closes */
  /* Or, on a network pool thread: the thread reads the socket for us, outside GLib's iteration. */
  std::shared_ptr<ContextRunner::DirectReader> direct_reader;
  GSource *write_source = nullptr;   /* only while the socket has not taken all of `unsent` */
  GSource *close_timer = nullptr;
  WebSocketLimits limits;
  WebSocketRole role = WebSocketRole::Server;
  std::unique_ptr<MaskKeys> mask_keys;   /* a client's */
  GSource *keepalive = nullptr;          /* a client's pings, when limits ask for them */
  /* Shared so that a handler that replaces the handlers does not destroy the one running. */
  std::shared_ptr<const WebSocketHandlers> handlers = std::make_shared<WebSocketHandlers>();
  WebSocketState state = WebSocketState::Open;

  std::string received;        /* bytes read and not yet a whole frame */
  std::string message;         /* a fragmented message so far */
  bool in_message = false;
  guint8 message_opcode = 0;

  std::string unsent;          /* frames the socket has not taken yet */
  bool close_sent = false, close_received = false, closed_reported = false;
  bool reading = false;        /* in on_readable(): its source may recurse, it may not */
  bool failed = false;         /* we failed the connection (§7.1.7): close at once */
  bool awaiting_eof = false;   /* a client after both close frames: the server closes first */
  gushort close_code = 0;
  std::string close_reason, error;
};

struct _ClawvoiceWebSocket {
  GObject parent;
  WebSocketPrivate *priv;
};

G_DEFINE_FINAL_TYPE(ClawvoiceWebSocket, clawvoice_web_socket, G_TYPE_OBJECT)

namespace {

void destroy_source(GSource **source)
{
  if (*source) {
    g_source_destroy(*source);
    g_source_unref(*source);
    *source = nullptr;
  }
}

void finish(ClawvoiceWebSocket *self, gushort code, const std::string &reason, const std::string &error);
void flush(ClawvoiceWebSocket *self);
void arm_close_timer(ClawvoiceWebSocket *self);

/* The socket is done with: no more reading or writing, the stream closed, on_closed once. */
void finish(ClawvoiceWebSocket *self, gushort code, const std::string &reason, const std::string &error)
{
  WebSocketPrivate *p = self->priv;
  if (p->state == WebSocketState::Closed)
    return;
  p->state = WebSocketState::Closed;
  destroy_source(&p->read_source);
  ContextRunner::remove_direct_reader(p->direct_reader);   /* before the descriptor closes */
  p->direct_reader.reset();
  destroy_source(&p->write_source);
  destroy_source(&p->close_timer);
  destroy_source(&p->keepalive);
  p->unsent.clear();
  p->received.clear();
  p->message.clear();
  if (p->stream)
    g_io_stream_close(p->stream, nullptr, nullptr);
  if (p->close_code == 0) {
    p->close_code = code;
    p->close_reason = reason;
  }
  if (p->error.empty())
    p->error = error;
  if (p->closed_reported)
    return;
  p->closed_reported = true;
  std::shared_ptr<const WebSocketHandlers> handlers = p->handlers;
  if (handlers->on_closed) {
    g_object_ref(self);
    handlers->on_closed(p->close_code, p->close_reason, p->error);
    g_object_unref(self);
  }
}

gboolean on_writable(GObject *, gpointer data)
{
  auto *self = CLAWVOICE_WEB_SOCKET(data);
  destroy_source(&self->priv->write_source);
  flush(self);
  return G_SOURCE_REMOVE;
}

/* Hands `unsent` to the socket, as much as it takes now; waits for it to be writable for the rest. */
void flush(ClawvoiceWebSocket *self)
{
  WebSocketPrivate *p = self->priv;
  while (!p->unsent.empty() && p->state != WebSocketState::Closed) {
    GError *error = nullptr;
    gssize n = g_pollable_output_stream_write_nonblocking(p->output, p->unsent.data(), p->unsent.size(), nullptr,
        &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(error);
      if (p->unsent.size() > p->limits.max_unsent) {
        finish(self, kCloseAbnormal, "", "the peer stopped reading: more than " +
            std::to_string(p->limits.max_unsent) + " bytes unsent");
        return;
      }
      if (!p->write_source) {
        p->write_source = g_pollable_output_stream_create_source(p->output, nullptr);
        g_source_set_callback(p->write_source, (GSourceFunc) (void (*)()) on_writable, self, nullptr);
        g_source_attach(p->write_source, p->context);
      }
      return;
    }
    if (n < 0) {
      std::string why = std::string("write failed: ") + error->message;
      g_error_free(error);
      finish(self, kCloseAbnormal, "", why);
      return;
    }
    p->unsent.erase(0, (gsize) n);
  }
  /* Our close frame is out and the peer's already came: the server closes the TCP connection
   * first (§7.1.1); a client waits for that, a while. */
  if (p->unsent.empty() && p->close_sent && p->close_received && p->state != WebSocketState::Closed) {
    if (p->role == WebSocketRole::Server || p->failed) {
      finish(self, p->close_code, p->close_reason, "");
    } else if (!p->awaiting_eof) {
      p->awaiting_eof = true;
      arm_close_timer(self);
    }
  }
}

void queue_frame(ClawvoiceWebSocket *self, guint8 opcode, const char *payload, gsize length)
{
  WebSocketPrivate *p = self->priv;
  if (p->role == WebSocketRole::Server) {
    append_frame_header(p->unsent, opcode, length, false);
    p->unsent.append(payload, length);
    return;
  }
  append_frame_header(p->unsent, opcode, length, true);
  const guint32 key_word = p->mask_keys->next();
  guint8 key[4];
  memcpy(key, &key_word, 4);
  p->unsent.append(reinterpret_cast<const char *>(key), 4);
  append_masked(p->unsent, payload, length, key);
}

/* Waits close_timeout_ms for the peer's close frame (or, a client, for the server's end of the
 * stream), then closes anyway. */
void arm_close_timer(ClawvoiceWebSocket *self)
{
  WebSocketPrivate *p = self->priv;
  if (p->close_timer)
    return;
  p->close_timer = g_timeout_source_new(p->limits.close_timeout_ms);
  g_source_set_callback(p->close_timer, [](gpointer data) -> gboolean {
    auto *s = CLAWVOICE_WEB_SOCKET(data);
    g_source_unref(s->priv->close_timer);
    s->priv->close_timer = nullptr;
    finish(s, s->priv->close_code, s->priv->close_reason,
        s->priv->awaiting_eof ? "" : "the peer did not answer our close frame");
    return G_SOURCE_REMOVE;
  }, self, nullptr);
  g_source_attach(p->close_timer, p->context);
}

/* Sends our close frame (once) and waits for the peer's, at most close_timeout_ms. */
void send_close(ClawvoiceWebSocket *self, gushort code, const std::string &reason)
{
  WebSocketPrivate *p = self->priv;
  if (p->close_sent || p->state == WebSocketState::Closed)
    return;
  p->close_sent = true;
  p->state = WebSocketState::Closing;
  std::string payload;
  if (code != 0 && code != kCloseNoStatus) {
    payload.push_back((char) (code >> 8));
    payload.push_back((char) (code & 0xFF));
    std::string cut = reason.substr(0, kMaxCloseReason);
    /* Cut on a character boundary: the reason must stay UTF-8. */
    gsize end = 0;
    if (!valid_utf8(cut.data(), cut.size(), &end))
      cut.resize(end);
    payload += cut;
  }
  if (p->close_code == 0 && !p->close_received) {
    p->close_code = code ? code : kCloseNoStatus;
    p->close_reason = reason;
  }
  queue_frame(self, kClose, payload.data(), payload.size());
  if (!p->close_received)
    arm_close_timer(self);
  flush(self);
}

/* The peer broke the protocol: tell it why, and give up on the connection. */
void fail(ClawvoiceWebSocket *self, gushort code, const std::string &why)
{
  WebSocketPrivate *p = self->priv;
  if (p->error.empty())
    p->error = why;
  p->close_code = code;
  p->close_reason = why;
  p->close_received = true;   /* nothing the peer sends now counts: close once our frame is out */
  p->failed = true;
  send_close(self, code, why);
  flush(self);   /* (when our close frame had gone already, this is what finishes) */
}

void deliver(ClawvoiceWebSocket *self, guint8 opcode, std::string &&data)
{
  WebSocketPrivate *p = self->priv;
  if (p->state != WebSocketState::Open)
    return;   /* we are closing: §7.1 lets us drop what still comes */
  if (opcode == kText && !valid_utf8(data.data(), data.size())) {
    fail(self, kCloseBadData, "a text message that is not UTF-8");
    return;
  }
  std::shared_ptr<const WebSocketHandlers> handlers = p->handlers;
  if (opcode == kText && handlers->on_text)
    handlers->on_text(std::move(data));
  else if (opcode == kBinary && handlers->on_binary)
    handlers->on_binary(std::move(data));
}

void on_close_frame(ClawvoiceWebSocket *self, const std::string &payload)
{
  WebSocketPrivate *p = self->priv;
  if (payload.size() == 1) {
    fail(self, kCloseProtocolError, "a close frame with a one-byte payload");
    return;
  }
  gushort code = kCloseNoStatus;
  std::string reason;
  if (payload.size() >= 2) {
    code = (gushort) (((guint8) payload[0] << 8) | (guint8) payload[1]);
    if (!close_code_may_be_sent(code)) {
      fail(self, kCloseProtocolError, "a close frame with code " + std::to_string(code));
      return;
    }
    reason = payload.substr(2);
    if (!valid_utf8(reason.data(), reason.size())) {
      fail(self, kCloseBadData, "a close reason that is not UTF-8");
      return;
    }
  }
  if (p->close_received)
    return;
  p->close_received = true;
  if (!p->close_sent) {
    p->close_code = code;
    p->close_reason = reason;
    send_close(self, code == kCloseNoStatus ? 0 : code, reason);   /* echo it (§5.5.1) */
  } else {
    destroy_source(&p->close_timer);
    flush(self);   /* finishes once our close frame is out */
  }
}

/* Takes every whole frame out of `received`. Returns false once the connection is no longer read. */
bool parse_frames(ClawvoiceWebSocket *self)
{
  WebSocketPrivate *p = self->priv;
  gsize at = 0;
  while (p->state != WebSocketState::Closed && !p->close_received) {
    const auto *bytes = (const guint8 *) p->received.data() + at;
    gsize available = p->received.size() - at;
    if (available < 2)
      break;
    bool fin = bytes[0] & 0x80;
    guint8 opcode = bytes[0] & 0x0F;
    bool masked = bytes[1] & 0x80;
    guint64 length = bytes[1] & 0x7F;
    gsize header = 2;
    if (length == 126) {
      if (available < 4)
        break;
      length = ((guint64) bytes[2] << 8) | bytes[3];
      header = 4;
    } else if (length == 127) {
      if (available < 10)
        break;
      length = 0;
      for (int i = 0; i < 8; i++)
        length = (length << 8) | bytes[2 + i];
      header = 10;
    }
    if (bytes[0] & 0x70) {
      fail(self, kCloseProtocolError, "a frame with reserved bits set (no extension was agreed)");
      return false;
    }
    const bool from_client = p->role == WebSocketRole::Server;
    if (masked != from_client) {
      fail(self, kCloseProtocolError, from_client ? "an unmasked frame from the client" : "a masked frame from the server");
      return false;
    }
    const gsize key_length = masked ? 4 : 0;
    bool control = opcode & 0x08;
    if (control && opcode != kClose && opcode != kPing && opcode != kPong) {
      fail(self, kCloseProtocolError, "a frame with reserved opcode " + std::to_string(opcode));
      return false;
    }
    if (!control && opcode != kContinuation && opcode != kText && opcode != kBinary) {
      fail(self, kCloseProtocolError, "a frame with reserved opcode " + std::to_string(opcode));
      return false;
    }
    if (control && (!fin || length > kMaxControlPayload)) {
      fail(self, kCloseProtocolError, "a fragmented or oversized control frame");
      return false;
    }
    if (!control) {
      if (opcode == kContinuation && !p->in_message) {
        fail(self, kCloseProtocolError, "a continuation frame with no message started");
        return false;
      }
      if (opcode != kContinuation && p->in_message) {
        fail(self, kCloseProtocolError, "a new message in the middle of a fragmented one");
        return false;
      }
      gsize so_far = p->in_message ? p->message.size() : 0;
      if (length > p->limits.max_message || so_far + length > p->limits.max_message) {
        fail(self, kCloseTooBig, "a message larger than " + std::to_string(p->limits.max_message) + " bytes");
        return false;
      }
    }
    if (available < header + key_length + length)
      break;   /* the rest has not arrived */
    std::string payload;
    if (masked) {
      guint8 key[4];
      memcpy(key, bytes + header, 4);
      append_masked(payload, (const char *) bytes + header + 4, (gsize) length, key);
    } else {
      payload.assign((const char *) bytes + header, (gsize) length);
    }
    at += header + key_length + (gsize) length;

    switch (opcode) {
      case kPing:
        if (p->state == WebSocketState::Open) {
          queue_frame(self, kPong, payload.data(), payload.size());
          flush(self);
        }
        break;
      case kPong:
        break;
      case kClose:
        on_close_frame(self, payload);
        break;
      case kContinuation:
        p->message += payload;
        if (fin) {
          p->in_message = false;
          std::string whole;
          whole.swap(p->message);
          deliver(self, p->message_opcode, std::move(whole));
        }
        break;
      default:   /* text or binary */
        if (fin) {
          deliver(self, opcode, std::move(payload));
        } else {
          p->in_message = true;
          p->message_opcode = opcode;
          p->message = std::move(payload);
        }
        break;
    }
  }
  if (p->state == WebSocketState::Closed)
    return false;
  p->received.erase(0, at);
  return !p->close_received;
}

gboolean on_readable(GObject *, gpointer data)
{
  auto *self = CLAWVOICE_WEB_SOCKET(data);
  WebSocketPrivate *p = self->priv;
  if (p->reading)
    return G_SOURCE_CONTINUE;   /* someone iterated the context from a handler: the outer call reads on */
  p->reading = true;
  g_object_ref(self);   /* a handler may drop the last reference */
  char chunk[kReadChunk];
  gboolean keep = G_SOURCE_CONTINUE;
  /* Read until the socket has nothing more: one wake-up takes every frame that came. */
  while (p->state != WebSocketState::Closed) {
    GError *error = nullptr;
    gssize n = p->socket && (p->read_source || p->direct_reader)
        ? g_socket_receive_with_blocking(p->socket, chunk, sizeof chunk, FALSE, nullptr, &error)
        : g_pollable_input_stream_read_nonblocking(p->input, chunk, sizeof chunk, nullptr, &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(error);
      break;
    }
    if (n <= 0) {
      std::string why = n == 0 ? "the peer closed the connection" : std::string("read failed: ") + error->message;
      g_clear_error(&error);
      /* After both close frames the end of the stream is the expected end. */
      bool clean = p->close_received;
      finish(self, clean ? p->close_code : kCloseAbnormal, clean ? p->close_reason : "", clean ? "" : why);
      break;
    }
    if (p->awaiting_eof)
      continue;   /* after the closing handshake: read only to see the end */
    p->received.append(chunk, (gsize) n);
    if (!parse_frames(self) && !p->awaiting_eof)
      break;
    if (p->socket && (gsize) n < sizeof chunk)
      break;   /* a short read: the socket was drained (its source tells us when more comes). A TLS
                  stream may hold more decrypted than one read returns: read it until it would block */
  }
  if (p->state == WebSocketState::Closed || (p->close_received && !p->awaiting_eof)) {
    /* Nothing more to read (the peer's close came, or we gave up on it): stop polling for it. */
    if (p->read_source) {
      g_source_unref(p->read_source);   /* (G_SOURCE_REMOVE destroys it) */
      p->read_source = nullptr;
    }
    ContextRunner::remove_direct_reader(p->direct_reader);
    p->direct_reader.reset();
    keep = G_SOURCE_REMOVE;
  }
  p->reading = false;
  g_object_unref(self);
  return keep;
}

void clawvoice_web_socket_dispose(GObject *object)
{
  auto *self = CLAWVOICE_WEB_SOCKET(object);
  WebSocketPrivate *p = self->priv;
  p->handlers = std::make_shared<WebSocketHandlers>();   /* nobody to tell any more */
  p->closed_reported = true;
  if (p->state == WebSocketState::Open) {
    send_close(self, kCloseGoingAway, "");
    /* Unreferenced: no timer to wait for the answer; what the socket took is what it gets. */
  }
  finish(self, kCloseGoingAway, "", "");
  G_OBJECT_CLASS(clawvoice_web_socket_parent_class)->dispose(object);
}

void clawvoice_web_socket_finalize(GObject *object)
{
  auto *self = CLAWVOICE_WEB_SOCKET(object);
  WebSocketPrivate *p = self->priv;
  g_clear_object(&p->stream);
  if (p->context)
    g_main_context_unref(p->context);
  delete p;
  G_OBJECT_CLASS(clawvoice_web_socket_parent_class)->finalize(object);
}

}  // namespace

static void clawvoice_web_socket_class_init(ClawvoiceWebSocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->dispose = clawvoice_web_socket_dispose;
  object_class->finalize = clawvoice_web_socket_finalize;
}

static void clawvoice_web_socket_init(ClawvoiceWebSocket *self)
{
  self->priv = new WebSocketPrivate;
}

namespace clawvoice::net {

ClawvoiceWebSocket *web_socket_new_server(GIOStream *stream, const WebSocketLimits &limits)
{
  return web_socket_new(stream, WebSocketRole::Server, {}, limits);
}

ClawvoiceWebSocket *web_socket_new(GIOStream *stream, WebSocketRole role, std::string already_read,
    const WebSocketLimits &limits)
{
  g_return_val_if_fail(G_IS_IO_STREAM(stream), nullptr);
  auto *self = CLAWVOICE_WEB_SOCKET(g_object_new(CLAWVOICE_TYPE_WEB_SOCKET, nullptr));
  WebSocketPrivate *p = self->priv;
  p->limits = limits;
  p->role = role;
  p->received = std::move(already_read);
  if (role == WebSocketRole::Client)
    p->mask_keys = std::make_unique<MaskKeys>();
  p->stream = G_IO_STREAM(g_object_ref(stream));
  p->context = g_main_context_ref_thread_default();
  GInputStream *input = g_io_stream_get_input_stream(stream);
  GOutputStream *output = g_io_stream_get_output_stream(stream);
  if (!G_IS_POLLABLE_INPUT_STREAM(input) || !G_IS_POLLABLE_OUTPUT_STREAM(output) ||
      !g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(input)) ||
      !g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(output))) {
    p->error = "the stream cannot be polled";
    p->state = WebSocketState::Closed;
    p->closed_reported = true;
    p->close_code = kCloseAbnormal;
    return self;
  }
  p->input = G_POLLABLE_INPUT_STREAM(input);
  p->output = G_POLLABLE_OUTPUT_STREAM(output);
  p->socket = plain_socket_of(stream);
  if (p->socket)   /* small messages that must leave now: no Nagle */
    g_socket_set_option(p->socket, IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
  if (role == WebSocketRole::Client && limits.keepalive_interval_ms > 0) {
    p->keepalive = g_timeout_source_new(limits.keepalive_interval_ms);
    g_source_set_callback(p->keepalive, [](gpointer data) -> gboolean {
      auto *s = CLAWVOICE_WEB_SOCKET(data);
      if (s->priv->state == WebSocketState::Open) {
        queue_frame(s, kPing, "", 0);
        flush(s);
      }
      return G_SOURCE_CONTINUE;
    }, self, nullptr);
    g_source_attach(p->keepalive, p->context);
  }
  /* What the handshake's reader may already hold (a client's first frame right behind its
   * request) comes out of the stream itself, not the socket: look at it first, from the loop. The
   * pollable source of a buffering stream is made for the buffer it has now, so it is made once
   * that buffer is empty, in the first read. */
  GSource *first = g_idle_source_new();
  g_source_set_priority(first, G_PRIORITY_DEFAULT);
  g_source_set_callback(first, [](gpointer data) -> gboolean {
    auto *s = CLAWVOICE_WEB_SOCKET(data);
    WebSocketPrivate *priv = s->priv;
    if (priv->state == WebSocketState::Closed)
      return G_SOURCE_REMOVE;
    /* Frames that came with the handshake's answer (a client's) go first. */
    if (!priv->received.empty() && (!parse_frames(s) || priv->state == WebSocketState::Closed))
      return G_SOURCE_REMOVE;
    if (on_readable(nullptr, s) == G_SOURCE_REMOVE || priv->state == WebSocketState::Closed)
      return G_SOURCE_REMOVE;
    if (priv->socket) {
      priv->direct_reader = ContextRunner::add_direct_reader(priv->context, g_socket_get_fd(priv->socket),
          [s]() { on_readable(nullptr, s); });
    }
    if (priv->direct_reader) {
      /* Read by the network pool thread itself when it sees the socket ready (see
       * ContextRunner::add_direct_reader()). */
    } else if (priv->socket) {
      /* The socket's own source, alone, and allowed to recurse (nothing iterates the context
       * inside it): GLib blocks a source that may not for each dispatch, and unblocking it
       * re-adds its descriptor, which writes the context's wake-up eventfd. With a pollable
       * stream's source (itself, the socket's as a child, and libsoup's wrapper around both)
       * that was three writes per message. */
      priv->read_source = g_socket_create_source(priv->socket, G_IO_IN, nullptr);
      g_source_set_callback(priv->read_source, (GSourceFunc) (void (*)()) +[](GSocket *, GIOCondition, gpointer d) {
        return on_readable(nullptr, d);
      }, s, nullptr);
      g_source_set_can_recurse(priv->read_source, TRUE);
    } else {
      priv->read_source = g_pollable_input_stream_create_source(priv->input, nullptr);
      g_source_set_callback(priv->read_source, (GSourceFunc) (void (*)()) on_readable, s, nullptr);
    }
    if (priv->read_source)
      g_source_attach(priv->read_source, priv->context);
    return G_SOURCE_REMOVE;
  }, g_object_ref(self), g_object_unref);
  g_source_attach(first, p->context);
  g_source_unref(first);
  return self;
}

void web_socket_set_handlers(ClawvoiceWebSocket *socket, WebSocketHandlers handlers)
{
  g_return_if_fail(CLAWVOICE_IS_WEB_SOCKET(socket));
  socket->priv->handlers = std::make_shared<const WebSocketHandlers>(std::move(handlers));
}

bool web_socket_send_texts(ClawvoiceWebSocket *socket, const std::vector<std::string> &texts)
{
  g_return_val_if_fail(CLAWVOICE_IS_WEB_SOCKET(socket), false);
  if (socket->priv->state != WebSocketState::Open)
    return false;
  for (const std::string &text : texts)
    queue_frame(socket, kText, text.data(), text.size());
  flush(socket);
  return true;
}

bool web_socket_send_text(ClawvoiceWebSocket *socket, const std::string &text)
{
  g_return_val_if_fail(CLAWVOICE_IS_WEB_SOCKET(socket), false);
  if (socket->priv->state != WebSocketState::Open)
    return false;
  queue_frame(socket, kText, text.data(), text.size());
  flush(socket);
  return true;
}

void web_socket_close(ClawvoiceWebSocket *socket, gushort code, const std::string &reason)
{
  g_return_if_fail(CLAWVOICE_IS_WEB_SOCKET(socket));
  if (socket->priv->state != WebSocketState::Open)
    return;
  if (!close_code_may_be_sent(code))
    code = kCloseNormal;
  send_close(socket, code, reason);
}

WebSocketState web_socket_state(ClawvoiceWebSocket *socket)
{
  g_return_val_if_fail(CLAWVOICE_IS_WEB_SOCKET(socket), WebSocketState::Closed);
  return socket->priv->state;
}

}  // namespace clawvoice::net
