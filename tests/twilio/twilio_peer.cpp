#include "twilio_peer.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <condition_variable>
#include <deque>

#include "twilio/media_stream.h"

namespace clawvoice::test {

namespace {
constexpr gint64 kChunkUs = 20000;
constexpr size_t kChunkBytes = 160;
}  // namespace

struct TwilioPeer::Impl {
  PeerOptions options;
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  GThread *thread = nullptr;
  SoupSession *session = nullptr;
  SoupWebsocketConnection *conn = nullptr;
  GSource *ticker = nullptr;

  mutable std::mutex lock;   /* guards obs and the playback clock (read by played_ms_now) */
  PeerObservations obs;
  gint64 play_end_us = 0;    /* when the audio scheduled so far finishes playing */
  double total_audio_ms = 0; /* audio received and not cleared */

  /* Peer thread only. */
  struct PendingMark { std::string name; gint64 due_us; };
  std::deque<PendingMark> pending_marks;
  uint64_t sequence = 0;
  bool streaming = false;
  gint64 stream_t0_us = 0;
  uint64_t chunk = 0;

  void run(std::function<void()> fn)
  {
    auto *call = new std::function<void()>(std::move(fn));
    GSource *source = g_idle_source_new();
    g_source_set_callback(source, [](gpointer d) -> gboolean {
      (*static_cast<std::function<void()> *>(d))();
      return G_SOURCE_REMOVE;
    }, call, [](gpointer d) { delete static_cast<std::function<void()> *>(d); });
    g_source_attach(source, context);
    g_source_unref(source);
  }

  void run_sync(std::function<void()> fn)
  {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    run([&]() {
      fn();
      std::lock_guard<std::mutex> l(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return done; });
  }

  void send(const std::string &text)
  {
    if (conn && soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(conn, text.c_str());
  }

  double played_locked(gint64 now) const
  {
    double remaining = play_end_us > now ? double(play_end_us - now) / 1000.0 : 0.0;
    return total_audio_ms - remaining;
  }

  void tick()
  {
    gint64 now = g_get_monotonic_time();
    /* Marks whose audio has been played. */
    while (!pending_marks.empty() && pending_marks.front().due_us <= now) {
      echo(pending_marks.front().name);
      pending_marks.pop_front();
    }
    {
      std::lock_guard<std::mutex> l(lock);
      obs.played_ms = played_locked(now);
    }
    /* The caller's audio, chunk by chunk at real time (then line silence). */
    while (streaming && conn && stream_t0_us + (gint64) chunk * kChunkUs <= now) {
      twilio::MediaMessage m;
      m.sequence_number = ++sequence;
      m.stream_sid = options.stream_sid;
      m.track = "inbound";
      m.chunk = chunk + 1;
      m.timestamp_ms = chunk * 20;
      size_t offset = chunk * kChunkBytes;
      m.payload.assign(kChunkBytes, 0xFF);
      for (size_t i = 0; i < kChunkBytes && offset + i < options.caller_audio.size(); i++)
        m.payload[i] = options.caller_audio[offset + i];
      send(twilio::build_inbound_media(m));
      chunk++;
      std::lock_guard<std::mutex> l(lock);
      obs.media_sent++;
    }
  }

  void echo(const std::string &name)
  {
    send(twilio::build_mark_echo({++sequence, options.stream_sid, name}));
    std::lock_guard<std::mutex> l(lock);
    obs.echoes++;
  }

  void on_text(const std::string &text)
  {
    twilio::OutboundParse parsed = twilio::parse_outbound(text);
    gint64 now = g_get_monotonic_time();
    std::unique_lock<std::mutex> l(lock);
    if (!parsed.ok || parsed.message.stream_sid != options.stream_sid) {
      if (obs.invalid++ == 0)
        obs.first_invalid = (parsed.ok ? "wrong streamSid: " : parsed.error + ": ") + text.substr(0, 200);
      return;
    }
    switch (parsed.message.kind) {
      case twilio::OutboundMessage::Kind::Media: {
        const auto &payload = parsed.message.payload;
        obs.media_frames++;
        obs.last_media_us = now;
        if (payload.size() != kChunkBytes)
          obs.odd_sized_frames++;
        obs.media_sizes.push_back(payload.size());
        obs.audio.insert(obs.audio.end(), payload.begin(), payload.end());
        /* Played in real time after what is already buffered. */
        gint64 start = std::max(now, play_end_us);
        play_end_us = start + (gint64) payload.size() * 125;
        total_audio_ms += double(payload.size()) / 8.0;
        obs.max_buffered_ms = std::max(obs.max_buffered_ms, double(play_end_us - now) / 1000.0);
        break;
      }
      case twilio::OutboundMessage::Kind::Mark:
        obs.marks++;
        obs.mark_names.push_back(parsed.message.name);
        l.unlock();
        pending_marks.push_back({parsed.message.name, std::max(now, play_end_us)});
        tick();
        break;
      case twilio::OutboundMessage::Kind::Clear: {
        obs.clears++;
        double played = played_locked(now);
        obs.played_at_clear_ms.push_back(played);
        total_audio_ms = played;
        play_end_us = std::min(play_end_us, now);
        l.unlock();
        /* Twilio echoes every pending mark at once on a clear. */
        while (!pending_marks.empty()) {
          echo(pending_marks.front().name);
          pending_marks.pop_front();
        }
        break;
      }
    }
  }

  void drop_connection()
  {
    if (!conn)
      return;
    g_signal_handlers_disconnect_by_data(conn, this);
    g_clear_object(&conn);
  }

  static void on_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
  {
    auto *self = static_cast<Impl *>(data);
    if (type != SOUP_WEBSOCKET_DATA_TEXT) {
      std::lock_guard<std::mutex> l(self->lock);
      self->obs.binary++;
      return;
    }
    gsize size;
    const char *bytes = static_cast<const char *>(g_bytes_get_data(message, &size));
    self->on_text(std::string(bytes, size));
  }

  static void on_closed(SoupWebsocketConnection *c, gpointer data)
  {
    auto *self = static_cast<Impl *>(data);
    {
      std::lock_guard<std::mutex> l(self->lock);
      self->obs.closed = true;
      self->obs.open = false;
      self->obs.close_code = soup_websocket_connection_get_close_code(c);
    }
    self->streaming = false;
  }

  static gpointer thread_main(gpointer data)
  {
    auto *self = static_cast<Impl *>(data);
    g_main_context_push_thread_default(self->context);
    g_main_loop_run(self->loop);
    g_main_context_pop_thread_default(self->context);
    return nullptr;
  }
};

TwilioPeer::TwilioPeer(PeerOptions options) : impl_(std::make_unique<Impl>())
{
  impl_->options = std::move(options);
  impl_->context = g_main_context_new();
  impl_->loop = g_main_loop_new(impl_->context, FALSE);
  impl_->thread = g_thread_new("twilio-peer", &Impl::thread_main, impl_.get());
  Impl *impl = impl_.get();
  impl_->run_sync([impl]() {
    impl->session = soup_session_new();
    impl->ticker = g_timeout_source_new(5);
    g_source_set_callback(impl->ticker, [](gpointer d) -> gboolean {
      static_cast<Impl *>(d)->tick();
      return G_SOURCE_CONTINUE;
    }, impl, nullptr);
    g_source_attach(impl->ticker, impl->context);
  });
}

TwilioPeer::~TwilioPeer()
{
  Impl *impl = impl_.get();
  impl_->run_sync([impl]() {
    g_source_destroy(impl->ticker);
    g_source_unref(impl->ticker);
    if (impl->conn && soup_websocket_connection_get_state(impl->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(impl->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    impl->drop_connection();
    g_clear_object(&impl->session);
    g_main_loop_quit(impl->loop);
  });
  g_thread_join(impl_->thread);
  while (g_main_context_iteration(impl_->context, FALSE)) {
  }
  g_main_loop_unref(impl_->loop);
  g_main_context_unref(impl_->context);
}

bool TwilioPeer::connect(const std::string &url, int timeout_ms)
{
  Impl *impl = impl_.get();
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  auto finish = [&]() {
    std::lock_guard<std::mutex> l(m);
    done = true;
    cv.notify_one();
  };
  struct Ctx { Impl *impl; std::function<void()> finish; };
  auto *ctx = new Ctx{impl, finish};
  impl->run([impl, url, ctx]() {
    SoupMessage *msg = soup_message_new(SOUP_METHOD_GET, url.c_str());
    soup_session_websocket_connect_async(impl->session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          std::unique_ptr<Ctx> ctx(static_cast<Ctx *>(data));
          Impl *impl = ctx->impl;
          GError *error = nullptr;
          impl->conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
          g_clear_error(&error);
          if (impl->conn) {
            g_signal_connect(impl->conn, "message", G_CALLBACK(Impl::on_message), impl);
            g_signal_connect(impl->conn, "closed", G_CALLBACK(Impl::on_closed), impl);
            {
              std::lock_guard<std::mutex> l(impl->lock);
              impl->obs.open = true;
            }
            if (impl->options.send_start) {
              impl->send(twilio::build_connected());
              twilio::StartMessage start;
              start.sequence_number = ++impl->sequence;
              start.stream_sid = impl->options.stream_sid;
              start.account_sid = impl->options.account_sid;
              start.call_sid = impl->options.call_sid;
              start.tracks = {"inbound"};
              start.media_format = {impl->options.encoding, 8000, 1};
              start.custom_parameters = impl->options.parameters;
              impl->send(twilio::build_start(start));
              if (impl->options.stream_audio) {
                impl->streaming = true;
                impl->stream_t0_us = g_get_monotonic_time();
                impl->chunk = 0;
              }
            }
          }
          ctx->finish();
        },
        ctx);
    g_object_unref(msg);
  });
  std::unique_lock<std::mutex> l(m);
  if (!cv.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return done; }))
    return false;   /* ctx is freed by the callback when it eventually runs */
  std::lock_guard<std::mutex> o(impl->lock);
  return impl->obs.open;
}

void TwilioPeer::send_text(const std::string &text)
{
  Impl *impl = impl_.get();
  impl->run([impl, text]() { impl->send(text); });
}

void TwilioPeer::send_binary(const std::string &bytes)
{
  Impl *impl = impl_.get();
  impl->run([impl, bytes]() {
    if (impl->conn)
      soup_websocket_connection_send_binary(impl->conn, bytes.data(), bytes.size());
  });
}

void TwilioPeer::send_start()
{
  Impl *impl = impl_.get();
  impl->run([impl]() {
    twilio::StartMessage start;
    start.sequence_number = ++impl->sequence;
    start.stream_sid = impl->options.stream_sid;
    start.account_sid = impl->options.account_sid;
    start.call_sid = impl->options.call_sid;
    start.tracks = {"inbound"};
    start.media_format = {impl->options.encoding, 8000, 1};
    start.custom_parameters = impl->options.parameters;
    impl->send(twilio::build_start(start));
  });
}

void TwilioPeer::start_audio()
{
  Impl *impl = impl_.get();
  impl->run([impl]() {
    impl->streaming = true;
    impl->stream_t0_us = g_get_monotonic_time();
    impl->chunk = 0;
  });
}

void TwilioPeer::send_dtmf(const std::string &digit)
{
  Impl *impl = impl_.get();
  impl->run([impl, digit]() {
    impl->send(twilio::build_dtmf({++impl->sequence, impl->options.stream_sid, "inbound_track", digit}));
  });
}

void TwilioPeer::send_stop()
{
  Impl *impl = impl_.get();
  impl->run([impl]() {
    impl->streaming = false;
    impl->send(twilio::build_stop({++impl->sequence, impl->options.stream_sid, impl->options.account_sid,
        impl->options.call_sid}));
  });
}

void TwilioPeer::close(int code)
{
  Impl *impl = impl_.get();
  impl->run([impl, code]() {
    impl->streaming = false;
    if (impl->conn && soup_websocket_connection_get_state(impl->conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(impl->conn, (gushort) code, nullptr);
  });
}

void TwilioPeer::vanish()
{
  Impl *impl = impl_.get();
  impl->run_sync([impl]() {
    impl->streaming = false;
    if (!impl->conn)
      return;
    /* Under libsoup's feet: the TCP connection goes, no close frame is ever sent. */
    GIOStream *io = soup_websocket_connection_get_io_stream(impl->conn);
    GSocket *socket = G_IS_SOCKET_CONNECTION(io) ? g_socket_connection_get_socket(G_SOCKET_CONNECTION(io)) : nullptr;
    if (socket)
      g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    else
      g_io_stream_close(io, nullptr, nullptr);
    impl->drop_connection();
    std::lock_guard<std::mutex> l(impl->lock);
    impl->obs.open = false;
  });
}

PeerObservations TwilioPeer::observe() const
{
  std::lock_guard<std::mutex> l(impl_->lock);
  return impl_->obs;
}

double TwilioPeer::played_ms_now() const
{
  std::lock_guard<std::mutex> l(impl_->lock);
  return impl_->played_locked(g_get_monotonic_time());
}

bool TwilioPeer::wait_until(const std::function<bool(const PeerObservations &)> &done, int timeout_ms) const
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time() < deadline) {
    if (done(observe()))
      return true;
    g_usleep(10000);
  }
  return done(observe());
}

std::vector<uint8_t> load_mulaw(const std::string &wav_path)
{
  std::vector<uint8_t> out;
  std::string launch = "filesrc location=" + wav_path +
      " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! mulawenc ! "
      "fakesink name=out signal-handoffs=true sync=false";
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(launch.c_str(), &error);
  if (!pipeline) {
    g_clear_error(&error);
    return out;
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  g_signal_connect(sink, "handoff", G_CALLBACK(+[](GstElement *, GstBuffer *buffer, GstPad *, gpointer data) {
    auto *bytes = static_cast<std::vector<uint8_t> *>(data);
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      bytes->insert(bytes->end(), map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
    }
  }), &out);
  gst_object_unref(sink);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (m)
    gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return out;
}

}  // namespace clawvoice::test
