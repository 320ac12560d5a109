/* clawvoice — mulawbridge: what Twilio sends us (connected, start, media, dtmf, mark, stop) and the
 * socket's life. Runs on the shared network thread and never blocks: it updates the element's state
 * under its lock, queues caller audio for the src task, and posts bus messages.
 *
 * Twilio is the peer, so trouble from it (a binary frame, text that is not JSON, an unknown or
 * malformed event, media before `start`) is posted as a warning once per kind, logged each time,
 * and ignored. A stream in another format than μ-law 8 kHz mono is an error. */
#include <libsoup/soup.h>

#include "mulawbridge/mulawbridge-messages.h"
#include "mulawbridge/mulawbridge_private.h"

#define GST_CAT_DEFAULT gst_mulaw_bridge_debug

namespace clawvoice::mulawbridge {

namespace {

/* Posts a warning the first time this kind of trouble shows up; logs it every time. */
void protocol_warning(GstMulawBridge *self, const std::string &kind, const std::string &message,
    const std::string &detail)
{
  Private *p = get_private(self);
  bool first;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    p->protocol_warnings++;
    first = p->warned.insert(kind).second;
  }
  GST_WARNING_OBJECT(self, "%s (%s): ignored", message.c_str(), detail.c_str());
  if (first)
    GST_ELEMENT_WARNING(self, STREAM, DECODE, ("%s", message.c_str()), ("%s; ignored (warned once per kind)",
        detail.c_str()));
}

void post_stop(GstMulawBridge *self, const twilio::StartMessage &start, const char *reason, gint code)
{
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TWILIO_STOP,
      "stream-sid", G_TYPE_STRING, start.stream_sid.c_str(),
      "call-sid", G_TYPE_STRING, start.call_sid.c_str(),
      "account-sid", G_TYPE_STRING, start.account_sid.c_str(),
      "reason", G_TYPE_STRING, reason, "close-code", G_TYPE_INT, code, nullptr));
}

/* The stream is over: the src pad ends once the caller's queued audio is out. Returns whether this
 * call ended it (lock held). */
bool end_stream(Private *p)
{
  if (p->stream == StreamState::Ended)
    return false;
  p->stream = StreamState::Ended;
  p->src_eos = true;
  p->src_cond.notify_all();
  return true;
}

void on_start(GstMulawBridge *self, const twilio::StartMessage &m)
{
  Private *p = get_private(self);
  GstClockTime now = 0;
  bool have_time = current_running_time(self, &now);
  {
    std::unique_lock<std::mutex> lock(p->lock);
    if (p->stream != StreamState::Waiting) {
      std::string current = p->start.stream_sid;
      lock.unlock();
      protocol_warning(self, "second-start", "Twilio sent a second start on the same stream.",
          "start of " + m.stream_sid + " on stream " + current);
      return;
    }
  }
  if (!m.media_format.is_mulaw_8k_mono()) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
        ("Twilio streams %s at %d Hz with %d channel(s); mulawbridge takes audio/x-mulaw, 8000 Hz, mono only.",
            m.media_format.encoding.c_str(), m.media_format.sample_rate, m.media_format.channels),
        ("stream %s, call %s", m.stream_sid.c_str(), m.call_sid.c_str()));
    std::shared_ptr<StreamSocket> socket;
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->start = m;
      end_stream(p);
      socket = p->socket;
    }
    post_stop(self, m, "error", 0);
    if (socket)
      socket->close(net::kCloseUnsupportedData, "mulawbridge takes audio/x-mulaw 8000 Hz mono");
    return;
  }
  {
    std::lock_guard<std::mutex> lock(p->lock);
    p->stream = StreamState::Started;
    p->start = m;
    /* Before PLAYING there is no clock: the stream then starts at running time 0, which is where
     * the pipeline's running time starts too. */
    p->start_rt = have_time ? now : 0;
    p->next_in_pts = GST_CLOCK_TIME_NONE;
    p->in_discont = true;
  }
  GST_INFO_OBJECT(self, "stream %s of call %s started at %" GST_TIME_FORMAT ", %zu custom parameter(s)",
      m.stream_sid.c_str(), m.call_sid.c_str(), GST_TIME_ARGS(have_time ? now : 0), m.custom_parameters.size());

  GstStructure *parameters = gst_structure_new_empty("parameters");
  for (const auto &[name, value] : m.custom_parameters)
    gst_structure_set(parameters, name.c_str(), G_TYPE_STRING, value.c_str(), nullptr);
  GValue tracks = G_VALUE_INIT;
  gst_value_array_init(&tracks, m.tracks.size());
  for (const std::string &track : m.tracks) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_STRING);
    g_value_set_string(&v, track.c_str());
    gst_value_array_append_and_take_value(&tracks, &v);
  }
  GstStructure *s = gst_structure_new(CLAWVOICE_MESSAGE_TWILIO_START,
      "stream-sid", G_TYPE_STRING, m.stream_sid.c_str(),
      "call-sid", G_TYPE_STRING, m.call_sid.c_str(),
      "account-sid", G_TYPE_STRING, m.account_sid.c_str(),
      "encoding", G_TYPE_STRING, m.media_format.encoding.c_str(),
      "sample-rate", G_TYPE_INT, m.media_format.sample_rate,
      "channels", G_TYPE_INT, m.media_format.channels,
      "parameters", GST_TYPE_STRUCTURE, parameters, nullptr);
  gst_structure_take_value(s, "tracks", &tracks);
  gst_structure_free(parameters);
  post_message(self, s);
}

void on_media(GstMulawBridge *self, twilio::MediaMessage &m)
{
  Private *p = get_private(self);
  bool latency_changed = false;
  const char *trouble = nullptr;
  std::string expected_sid;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->stream == StreamState::Ended)
      return;
    if (p->stream == StreamState::Waiting)
      trouble = "media-before-start";
    else if (m.stream_sid != p->start.stream_sid)
      trouble = "wrong-stream";
    expected_sid = p->start.stream_sid;
  }
  if (trouble) {
    /* Posted outside the lock: a bus sync handler may read our properties. */
    if (g_str_equal(trouble, "media-before-start"))
      protocol_warning(self, trouble, "Twilio sent media before start.", "media of stream " + m.stream_sid);
    else
      protocol_warning(self, trouble, "Twilio sent media for another stream.",
          m.stream_sid + " instead of " + expected_sid);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->stream != StreamState::Started)
      return;
    if (m.track != "inbound" || m.payload.empty())
      return;   /* only the caller's side goes out of src */
    p->frames_in++;
    p->bytes_in += m.payload.size();

    GstClockTime pts = p->start_rt + m.timestamp_ms * GST_MSECOND;
    GstClockTime duration = m.payload.size() * kByteDuration;
    /* A missing chunk, or one out of order, is a discontinuity for whoever decodes or mixes. */
    bool discont = p->in_discont || !GST_CLOCK_TIME_IS_VALID(p->next_in_pts) ||
        pts > p->next_in_pts + GST_MSECOND || pts + GST_MSECOND < p->next_in_pts;
    p->in_discont = false;
    p->next_in_pts = pts + duration;
    if (duration > p->max_chunk) {
      p->max_chunk = duration;
      latency_changed = true;
    }

    GstBuffer *buffer = gst_buffer_new_memdup(m.payload.data(), m.payload.size());
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = duration;
    if (discont)
      GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    p->in_queue.push_back(buffer);
    p->in_queued_bytes += m.payload.size();
    /* Bounded: if downstream stalls, the oldest audio goes (the caller is live, not a file). */
    while (p->in_queued_bytes > kMaxQueuedInBytes && p->in_queue.size() > 1) {
      GstBuffer *old = p->in_queue.front();
      p->in_queue.pop_front();
      p->in_queued_bytes -= gst_buffer_get_size(old);
      gst_buffer_unref(old);
      p->frames_dropped_in++;
      GST_BUFFER_FLAG_SET(p->in_queue.front(), GST_BUFFER_FLAG_DISCONT);
    }
    p->src_cond.notify_one();
  }
  if (latency_changed) {
    GST_INFO_OBJECT(self, "Twilio sends chunks of up to %" GST_TIME_FORMAT ": latency changed",
        GST_TIME_ARGS(m.payload.size() * kByteDuration));
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  }
}

void on_dtmf(GstMulawBridge *self, const twilio::DtmfMessage &m)
{
  Private *p = get_private(self);
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->stream != StreamState::Started)
      return;
    p->dtmf++;
  }
  GST_INFO_OBJECT(self, "DTMF %s", m.digit.c_str());
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_DTMF, "digit", G_TYPE_STRING, m.digit.c_str(),
      "stream-sid", G_TYPE_STRING, m.stream_sid.c_str(), nullptr));
}

void on_mark(GstMulawBridge *self, const twilio::MarkMessage &m)
{
  Private *p = get_private(self);
  MarkLedger::Echo echo;
  bool post = false, eos = false;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    echo = p->marks.echo(m.name);
    if (echo.heard)
      p->heard_echo_us = g_get_monotonic_time();
    post = p->post_marks && echo.known;
    if (echo.known && p->eos_pending && p->marks.outstanding() == 0)
      eos = true;   /* Twilio has played (or dropped) everything we sent */
  }
  if (!echo.known) {
    protocol_warning(self, "unknown-mark", "Twilio echoed a mark mulawbridge did not send (or already settled).",
        "mark " + m.name);
    return;
  }
  GST_LOG_OBJECT(self, "mark %s %s", m.name.c_str(), echo.heard ? "heard" : "released by a clear");
  if (post) {
    post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TWILIO_MARK, "name", G_TYPE_STRING, m.name.c_str(),
        "heard", G_TYPE_BOOLEAN, echo.heard, "position", G_TYPE_UINT64, (guint64) echo.end, nullptr));
  }
  if (eos) {
    GST_INFO_OBJECT(self, "Twilio played everything we sent: end of stream");
    post_eos_once(self);
  }
}

void on_stop(GstMulawBridge *self, const twilio::StopMessage &m)
{
  Private *p = get_private(self);
  twilio::StartMessage start;
  bool eos;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->stream == StreamState::Waiting) {
      GST_WARNING_OBJECT(self, "stop before start");
    }
    if (!end_stream(p))
      return;
    start = p->start;
    if (start.stream_sid.empty()) {
      start.stream_sid = m.stream_sid;
      start.call_sid = m.call_sid;
      start.account_sid = m.account_sid;
    }
    eos = p->eos_pending;
  }
  GST_INFO_OBJECT(self, "Twilio stopped stream %s", m.stream_sid.c_str());
  post_stop(self, start, "stop", 0);
  if (eos)
    post_eos_once(self);   /* nothing more will be played */
}

void on_text(GstMulawBridge *self, std::string text)
{
  twilio::InboundParse parsed = twilio::parse_inbound(text);
  switch (parsed.status) {
    case twilio::ParseStatus::NotJson:
      protocol_warning(self, "not-json", "Twilio sent a text frame that is not a JSON object.", parsed.error);
      return;
    case twilio::ParseStatus::UnknownEvent:
      protocol_warning(self, "unknown:" + parsed.event,
          "Twilio sent an unknown event" + (parsed.event.empty() ? std::string() : ": " + parsed.event) + ".",
          parsed.error);
      return;
    case twilio::ParseStatus::Invalid:
      protocol_warning(self, "invalid:" + parsed.event, "Twilio sent a malformed " + parsed.event + " message.",
          parsed.error);
      return;
    case twilio::ParseStatus::Ok:
      break;
  }
  twilio::InboundMessage &message = *parsed.message;
  if (auto *media = std::get_if<twilio::MediaMessage>(&message)) {
    on_media(self, *media);
  } else if (auto *start = std::get_if<twilio::StartMessage>(&message)) {
    on_start(self, *start);
  } else if (auto *mark = std::get_if<twilio::MarkMessage>(&message)) {
    on_mark(self, *mark);
  } else if (auto *dtmf = std::get_if<twilio::DtmfMessage>(&message)) {
    on_dtmf(self, *dtmf);
  } else if (auto *stop = std::get_if<twilio::StopMessage>(&message)) {
    on_stop(self, *stop);
  } else if (auto *connected = std::get_if<twilio::ConnectedMessage>(&message)) {
    GST_DEBUG_OBJECT(self, "connected: protocol %s, version %s", connected->protocol.c_str(),
        connected->version.c_str());
  }
}

void on_closed(GstMulawBridge *self, gushort code, const std::string &reason)
{
  Private *p = get_private(self);
  twilio::StartMessage start;
  bool ended, eos;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    ended = end_stream(p);
    start = p->start;
    eos = p->eos_pending;
  }
  GST_INFO_OBJECT(self, "the stream's socket closed (%u %s)", code, reason.c_str());
  if (ended)
    post_stop(self, start, "closed", code);
  if (eos)
    post_eos_once(self);
}

/* In push-from-network-thread mode the src pad has no task: what a message queued goes out now. */
void push_if_no_task(GstMulawBridge *self)
{
  Private *p = get_private(self);
  bool here;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    here = p->push_from_network && p->playing;
  }
  if (here)
    push_caller_audio_here(self);
}

}  // namespace

StreamSocketCallbacks make_socket_callbacks(GstMulawBridge *self)
{
  StreamSocketCallbacks callbacks;
  callbacks.on_text = [self](std::string text) {
    on_text(self, std::move(text));
    push_if_no_task(self);
  };
  callbacks.on_binary = [self]() {
    protocol_warning(self, "binary", "Twilio sent a binary frame; Media Streams carry text frames only.",
        "binary WebSocket frame");
  };
  callbacks.on_closed = [self](gushort code, std::string reason) {
    on_closed(self, code, reason);
    push_if_no_task(self);
  };
  callbacks.on_accepted = [self](std::string peer) { GST_INFO_OBJECT(self, "stream connected from %s", peer.c_str()); };
  callbacks.on_refused = [self](std::string peer) {
    GST_WARNING_OBJECT(self, "refused a second stream from %s: this element takes one", peer.c_str());
  };
  return callbacks;
}

bool apply_start_message(GstMulawBridge *self, const std::string &text)
{
  twilio::InboundParse parsed = twilio::parse_inbound(text);
  if (parsed.status != twilio::ParseStatus::Ok || !std::holds_alternative<twilio::StartMessage>(*parsed.message)) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The start-message property is not a Twilio start message."),
        ("%s", parsed.error.empty() ? ("event " + parsed.event).c_str() : parsed.error.c_str()));
    return false;
  }
  on_start(self, std::get<twilio::StartMessage>(*parsed.message));
  return true;
}

void post_eos_once(GstMulawBridge *self)
{
  Private *p = get_private(self);
  guint32 seqnum;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->eos_posted)
      return;
    p->eos_posted = true;
    p->eos_pending = false;
    seqnum = p->eos_seqnum;
  }
  GstMessage *message = gst_message_new_eos(GST_OBJECT(self));
  if (seqnum)
    gst_message_set_seqnum(message, seqnum);
  gst_element_post_message(GST_ELEMENT(self), message);
}

}  // namespace clawvoice::mulawbridge
