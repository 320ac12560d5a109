#include "media_stream_call.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "mulaw_audio.h"
#include "pi_mutex.h"
#include "webhook.h"

namespace clawvoice::test::twilio_emu {

namespace {
constexpr gint64 kFrameUs = 20000;
}

struct MediaStreamCall::Impl : std::enable_shared_from_this<Impl> {
  std::shared_ptr<EmulatorThread> thread;
  CallOptions options;
  StreamIds ids;

  /* Emulator thread only. */
  SoupWebsocketConnection *ws = nullptr;
  GCancellable *cancellable = nullptr;
  GSource *connect_timeout = nullptr;
  EmulatorThread::TimerId ticker = 0;
  bool started = false;
  bool stop_sent = false;
  bool we_closed = false;
  guint64 sequence = 0;
  guint64 chunk = 0;
  std::vector<guint8> caller_audio;
  size_t caller_pos = 0;
  PlayoutBuffer playout;
  PlayoutBuffer::Tick tick_out;

  /* Shared with readers. */
  mutable PiMutex mutex;
  mutable std::condition_variable_any changed;
  CallReport report;

  Impl(std::shared_ptr<EmulatorThread> t, CallOptions o)
      : thread(std::move(t)), options(std::move(o)),
        playout(options.underrun_max_gap_ms * 1000)
  {
    ids = options.ids;
    if (ids.account_sid.empty())
      ids.account_sid = random_sid("AC");
    if (ids.call_sid.empty())
      ids.call_sid = random_sid("CA");
    if (ids.stream_sid.empty())
      ids.stream_sid = random_sid("MZ");
    caller_audio = std::move(options.caller_audio);
    caller_audio.insert(caller_audio.end(), options.trailing_silence_ms * 8, kMulawSilence);
  }

  template <typename Fn>
  void update(Fn &&fn)
  {
    {
      std::lock_guard<PiMutex> lock(mutex);
      fn(report);
    }
    changed.notify_all();
  }

  void violation(int code, std::string detail)
  {
    g_message("twilio-emu %s: violation %d: %s", ids.stream_sid.c_str(), code, detail.c_str());
    gint64 now = g_get_monotonic_time();
    update([&](CallReport &r) { r.violations.push_back({code, std::move(detail), now}); });
  }

  bool is_open() const
  {
    return ws && soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN;
  }

  void send(const std::string &text)
  {
    if (is_open())
      soup_websocket_connection_send_text(ws, text.c_str());
  }

  /* ---- connection ---- */

  void connect()
  {
    if (started)
      return;
    started = true;
    update([](CallReport &r) { r.state = CallState::Connecting; });
    SoupMessage *msg = soup_message_new(SOUP_METHOD_GET, options.stream_url.c_str());
    if (!msg) {
      fail(0, "invalid stream URL '" + options.stream_url + "'");
      return;
    }
    cancellable = g_cancellable_new();
    connect_timeout = g_timeout_source_new(options.connect_timeout_ms);
    g_source_set_callback(
        connect_timeout,
        [](gpointer data) -> gboolean {
          auto *self = static_cast<Impl *>(data);
          g_source_unref(self->connect_timeout);
          self->connect_timeout = nullptr;
          g_cancellable_cancel(self->cancellable);
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    g_source_attach(connect_timeout, thread->context());

    soup_session_websocket_connect_async(thread->session(), msg, nullptr, nullptr,
                                         G_PRIORITY_DEFAULT, cancellable, &Impl::on_connected,
                                         new std::shared_ptr<Impl>(shared_from_this()));
    g_object_unref(msg);
  }

  static void on_connected(GObject *source, GAsyncResult *result, gpointer data)
  {
    std::unique_ptr<std::shared_ptr<Impl>> holder(static_cast<std::shared_ptr<Impl> *>(data));
    Impl *self = holder->get();
    GError *error = nullptr;
    SoupWebsocketConnection *conn =
        soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
    SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), result);
    guint status = msg ? soup_message_get_status(msg) : 0;
    if (self->connect_timeout) {
      g_source_destroy(self->connect_timeout);
      g_source_unref(self->connect_timeout);
      self->connect_timeout = nullptr;
    }
    if (!conn) {
      bool timed_out = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      std::string why = timed_out ? "no WebSocket handshake within the connect timeout"
                                  : std::string("WebSocket handshake failed: ") + error->message;
      g_error_free(error);
      if (self->we_closed)   /* torn down while connecting */
        return;
      if (status != 0 && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
        self->violation(kErrorHandshake, "the stream URL answered HTTP " + std::to_string(status) +
                                             " instead of 101");
      self->fail(status, why);
      return;
    }
    if (self->we_closed) {   /* torn down while connecting */
      soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
      g_object_unref(conn);
      return;
    }
    self->ws = conn;
    /* Twilio's own limits are unknown; a generous bound keeps a broken bridge from eating RAM. */
    soup_websocket_connection_set_max_incoming_payload_size(conn, 1024 * 1024);
    g_signal_connect(conn, "message", G_CALLBACK(&Impl::on_message), self);
    g_signal_connect(conn, "closed", G_CALLBACK(&Impl::on_closed), self);
    self->begin_stream(status);
  }

  void fail(guint status, std::string why)
  {
    gint64 now = g_get_monotonic_time();
    update([&](CallReport &r) {
      r.state = CallState::Failed;
      r.failure = std::move(why);
      r.handshake_status = status;
      r.closed_us = now;
    });
  }

  void begin_stream(guint status)
  {
    const gint64 now = g_get_monotonic_time();
    send(connected_message());
    send(start_message(++sequence, ids, options.custom_parameters));
    update([&](CallReport &r) {
      r.state = CallState::Streaming;
      r.handshake_status = status;
      r.connected_us = now;
      r.start_sent_us = now;
    });
    std::weak_ptr<Impl> weak = shared_from_this();
    ticker = thread->add_periodic(now + kFrameUs, kFrameUs, [weak, now](gint64 deadline) {
      if (auto self = weak.lock())
        self->on_tick(now, deadline);
    });
  }

  static void on_closed(SoupWebsocketConnection *conn, gpointer data)
  {
    auto *self = static_cast<Impl *>(data);
    gushort code = soup_websocket_connection_get_close_code(conn);
    const char *reason = soup_websocket_connection_get_close_data(conn);
    self->closed(code == 0 ? static_cast<gushort>(SOUP_WEBSOCKET_CLOSE_ABNORMAL) : code, reason ? reason : "");
  }

  void closed(gushort code, std::string reason)
  {
    stop_clock();
    const gint64 now = g_get_monotonic_time();
    const bool by_bridge = !we_closed;
    update([&](CallReport &r) {
      r.state = CallState::Closed;
      r.closed_us = now;
      r.close_code = code;
      r.close_reason = std::move(reason);
      r.closed_by_bridge = by_bridge;
    });
    release_socket();
  }

  void release_socket()
  {
    if (!ws)
      return;
    g_signal_handlers_disconnect_by_data(ws, this);
    g_clear_object(&ws);
  }

  void stop_clock()
  {
    if (ticker) {
      thread->cancel(ticker);
      ticker = 0;
    }
  }

  /* ---- the 20 ms clock: send one caller frame, play one frame ---- */

  void on_tick(gint64 origin_us, gint64 deadline)
  {
    if (!is_open())
      return;
    SentFrame sent{0, deadline, 0};
    bool audio_done_now = false;
    if (!stop_sent) {
      guint8 frame[kFrameBytes];
      size_t have = caller_audio.size() - caller_pos;
      bool send_frame = have > 0 || options.silence_when_idle;
      if (send_frame) {
        size_t take = std::min<size_t>(have, kFrameBytes);
        std::copy_n(caller_audio.data() + caller_pos, take, frame);
        std::fill(frame + take, frame + kFrameBytes, kMulawSilence);
        caller_pos += take;
        audio_done_now = take > 0 && caller_pos == caller_audio.size();
        sent.chunk = ++chunk;
        send(media_message(++sequence, chunk, (deadline - origin_us) / 1000, frame, kFrameBytes,
                           ids.stream_sid));
        sent.sent_us = g_get_monotonic_time();
      }
    }

    playout.tick(deadline, &tick_out);
    const gint64 now = g_get_monotonic_time();
    std::vector<EchoedMark> echoed;
    for (auto &mark : tick_out.echoed) {
      send(mark_echo_message(++sequence, mark.name, ids.stream_sid));
      echoed.push_back({std::move(mark.name), true, mark.received_us, now});
    }

    update([&](CallReport &r) {
      if (sent.chunk && options.record_timings)
        r.sent_media.push_back(sent);
      if (audio_done_now)
        r.caller_audio_done_us = sent.sent_us;
      if (!tick_out.frame.empty()) {
        r.played_frames.push_back(
            {deadline, r.played_audio.size(), static_cast<guint32>(tick_out.frame.size())});
        if (options.record_played_audio)
          r.played_audio.insert(r.played_audio.end(), tick_out.frame.begin(), tick_out.frame.end());
        else
          r.played_frames.back().offset = 0;
      }
      for (auto &m : echoed)
        r.marks.push_back(std::move(m));
      r.buffered_bytes = playout.buffered_bytes();
      r.short_frames = playout.short_frames();
      if (r.underruns.size() != playout.underruns().size())
        r.underruns = playout.underruns();
      if (r.gaps_at_marks.size() != playout.gaps_at_marks().size())
        r.gaps_at_marks = playout.gaps_at_marks();
    });
  }

  /* ---- what the bridge sends ---- */

  static void on_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
  {
    static_cast<Impl *>(data)->received(type, message);
  }

  void received(gint type, GBytes *message)
  {
    const gint64 now = g_get_monotonic_time();
    if (stop_sent) {
      update([](CallReport &r) { r.messages_after_stop++; });
      return;
    }
    gsize len = 0;
    const char *text = static_cast<const char *>(g_bytes_get_data(message, &len));
    if (type == SOUP_WEBSOCKET_DATA_BINARY) {
      violation(kErrorBinaryFrame,
                "binary frame of " + std::to_string(len) + " bytes: Media Streams take text only");
      return;
    }
    BridgeMessage msg = parse_bridge_message(text ? text : "", len, ids.stream_sid);
    switch (msg.kind) {
      case BridgeMessage::Kind::Invalid:
        violation(msg.error_code, msg.error);
        return;
      case BridgeMessage::Kind::Media: {
        const size_t bytes = msg.audio.size();
        bool kept = playout.push_audio(msg.audio.data(), bytes, now);
        if (!kept)
          violation(kErrorBufferOverflow, "more than 10 minutes of audio buffered: " +
                                              std::to_string(bytes) + " bytes dropped");
        update([&](CallReport &r) {
          if (options.record_timings)
            r.received_media.push_back({now, static_cast<guint32>(bytes)});
          r.bytes_received += bytes;
          if (bytes % kFrameBytes != 0)
            r.irregular_payloads++;
          if (!kept)
            r.dropped_overflow_bytes += bytes;
          r.max_buffered_bytes = playout.max_buffered_bytes();
          r.buffered_bytes = playout.buffered_bytes();
        });
        return;
      }
      case BridgeMessage::Kind::Mark: {
        MarkEcho echo;
        if (playout.push_mark(msg.mark_name, now, &echo)) {
          send(mark_echo_message(++sequence, echo.name, ids.stream_sid));
          gint64 sent = g_get_monotonic_time();
          update([&](CallReport &r) { r.marks.push_back({echo.name, true, echo.received_us, sent}); });
        }
        return;
      }
      case BridgeMessage::Kind::Clear: {
        PlayoutBuffer::Cleared cleared = playout.clear(now);
        for (const auto &mark : cleared.released)
          send(mark_echo_message(++sequence, mark.name, ids.stream_sid));
        gint64 sent = g_get_monotonic_time();
        update([&](CallReport &r) {
          for (auto &mark : cleared.released)
            r.marks.push_back({std::move(mark.name), false, mark.received_us, sent});
          r.clears.push_back({now, cleared.dropped_bytes,
                              static_cast<guint>(cleared.released.size())});
          r.buffered_bytes = 0;
        });
        return;
      }
    }
  }

  /* ---- commands ---- */

  void stop()
  {
    if (!is_open() || stop_sent)
      return;
    send(stop_message(++sequence, ids));
    stop_sent = true;
    stop_clock();
    const gint64 now = g_get_monotonic_time();
    update([&](CallReport &r) { r.stop_sent_us = now; });
    if (options.close_after_stop) {
      we_closed = true;
      soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    }
  }

  void vanish()
  {
    if (!ws)
      return;
    stop_clock();
    we_closed = true;
    const gint64 now = g_get_monotonic_time();
    /* Recorded first: whoever sees the socket drop may already look at the report. */
    update([&](CallReport &r) {
      r.vanished = true;
      r.state = CallState::Closed;
      r.closed_us = now;
      r.close_code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;
    });
    g_signal_handlers_disconnect_by_data(ws, this);
    /* Close the transport under the WebSocket: the bridge sees the TCP connection end with no
     * close frame, as when a network path dies. */
    GIOStream *stream = soup_websocket_connection_get_io_stream(ws);
    if (G_IS_SOCKET_CONNECTION(stream))
      g_socket_shutdown(g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream)), TRUE, TRUE,
                        nullptr);
    g_io_stream_close(stream, nullptr, nullptr);
    g_clear_object(&ws);
  }

  void teardown()
  {
    we_closed = true;
    stop_clock();
    if (cancellable)
      g_cancellable_cancel(cancellable);
    if (connect_timeout) {
      g_source_destroy(connect_timeout);
      g_source_unref(connect_timeout);
      connect_timeout = nullptr;
    }
    if (ws) {
      g_signal_handlers_disconnect_by_data(ws, this);
      if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
      g_clear_object(&ws);
    }
    g_clear_object(&cancellable);
  }
};

MediaStreamCall::MediaStreamCall(std::shared_ptr<EmulatorThread> thread, CallOptions options)
    : thread_(std::move(thread)), impl_(std::make_shared<Impl>(thread_, std::move(options)))
{
}

MediaStreamCall::~MediaStreamCall()
{
  auto impl = impl_;
  thread_->invoke_sync([impl]() { impl->teardown(); });
}

const StreamIds &MediaStreamCall::ids() const
{
  return impl_->ids;
}

void MediaStreamCall::start()
{
  auto impl = impl_;
  thread_->invoke([impl]() { impl->connect(); });
}

void MediaStreamCall::queue_caller_audio(std::vector<guint8> mulaw)
{
  auto impl = impl_;
  thread_->invoke([impl, audio = std::move(mulaw)]() {
    impl->caller_audio.insert(impl->caller_audio.end(), audio.begin(), audio.end());
  });
}

void MediaStreamCall::send_dtmf(char digit)
{
  auto impl = impl_;
  thread_->invoke([impl, digit]() {
    if (!impl->is_open() || impl->stop_sent)
      return;
    impl->send(dtmf_message(++impl->sequence, digit, impl->ids.stream_sid));
    gint64 now = g_get_monotonic_time();
    impl->update([&](CallReport &r) { r.dtmf_sent.push_back({digit, now}); });
  });
}

void MediaStreamCall::stop()
{
  auto impl = impl_;
  thread_->invoke([impl]() { impl->stop(); });
}

void MediaStreamCall::vanish()
{
  auto impl = impl_;
  thread_->invoke([impl]() { impl->vanish(); });
}

void MediaStreamCall::send_raw(std::string text)
{
  auto impl = impl_;
  thread_->invoke([impl, text = std::move(text)]() {
    if (!impl->is_open())
      return;
    GBytes *bytes = g_bytes_new(text.data(), text.size());
    soup_websocket_connection_send_message(impl->ws, SOUP_WEBSOCKET_DATA_TEXT, bytes);
    g_bytes_unref(bytes);
  });
}

void MediaStreamCall::send_binary(std::vector<guint8> data)
{
  auto impl = impl_;
  thread_->invoke([impl, data = std::move(data)]() {
    if (impl->is_open())
      soup_websocket_connection_send_binary(impl->ws, data.data(), data.size());
  });
}

CallReport MediaStreamCall::report() const
{
  std::lock_guard<PiMutex> lock(impl_->mutex);
  return impl_->report;
}

bool MediaStreamCall::wait_for(const std::function<bool(const CallReport &)> &predicate,
                               guint timeout_ms) const
{
  std::unique_lock<PiMutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                 [&]() { return predicate(impl_->report); });
}

bool MediaStreamCall::wait_closed(guint timeout_ms) const
{
  return wait_for(
      [](const CallReport &r) {
        return r.state == CallState::Closed || r.state == CallState::Failed;
      },
      timeout_ms);
}

}  // namespace clawvoice::test::twilio_emu
