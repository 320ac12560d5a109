/* clawvoice — mulawbridge's sink pad: our audio to Twilio, paced, with marks.
 *
 * Twilio plays what it receives in real time and buffers the rest, and whatever sits in that buffer
 * is lost or late on barge-in. So audio leaves in whole 20 ms frames, each when the pipeline clock
 * reaches its running time (plus the pipeline latency) minus `lead`, and never while a model of
 * Twilio's buffer (frames sent, played from the first at real time) already holds `lead`: at most
 * `lead` ms wait there when upstream is faster than real time, and about one frame when upstream is
 * a live source such as realtimesink, which hands each period out when it is due. The wait blocks this
 * streaming thread on the clock, never the network thread; flushing, a state change or a clear
 * unschedules it.
 *
 * Frames go out `frames-per-message` to a media message (whole 20 ms frames always; the last
 * message of a burst may hold fewer). After every `mark-interval` frames, at a message's end, and
 * at the end of each burst (GAP or EOS) a mark follows. The POSITION query answers with the end of
 * the last audio Twilio confirmed as played (MarkLedger). */
#include <algorithm>
#include <cstring>

#include "clawvoice-contract.h"
#include "mulawbridge/mulawbridge_private.h"

#define GST_CAT_DEFAULT gst_mulaw_bridge_debug

namespace clawvoice::mulawbridge {

namespace {

/* Sends a mark after the audio sent since the previous one (lock held). */
void send_pending_mark(Private *p, std::vector<std::string> *texts)
{
  if (p->frames_since_mark == 0)
    return;
  std::string name = p->marks.add(p->unmarked_start, p->unmarked_end);
  texts->push_back(twilio::build_mark(p->start.stream_sid, name));
  p->frames_since_mark = 0;
  p->unmarked_start = p->unmarked_end = GST_CLOCK_TIME_NONE;
}

/* Sends the frames held for the next message, and a mark after them when one is due (lock held). */
void send_held_media(Private *p, bool mark_now = false)
{
  if (p->stream != StreamState::Started || !p->socket) {
    p->held_media.clear();
    p->held_frames = 0;
    return;
  }
  std::vector<std::string> texts;
  if (p->held_frames > 0) {
    texts.push_back(twilio::build_media(p->start.stream_sid,
        reinterpret_cast<const guint8 *>(p->held_media.data()), p->held_media.size()));
    p->held_media.clear();
    p->held_frames = 0;
    p->sent_end_rt = p->remote_end_rt;   /* (the model's end includes every frame paced out) */
  }
  if (mark_now || p->frames_since_mark >= p->mark_interval)
    send_pending_mark(p, &texts);
  /* Queued in order with a clear sent from another thread: both go under the lock. */
  if (!texts.empty())
    p->socket->send(std::move(texts));
}

/* Waits until @frame_rt is due (minus the lead), then sends it. The lock is held on entry and exit,
 * released while waiting. */
GstFlowReturn pace_and_send(GstMulawBridge *self, std::unique_lock<std::mutex> &lock, const guint8 *frame,
    GstClockTime frame_rt)
{
  Private *p = get_private(self);
  const guint64 clear_seq = p->clear_seq;
  bool late = false;
  GstClockTime now_rt = 0;
  while (true) {
    if (p->sink_flushing)
      return GST_FLOW_FLUSHING;
    if (p->clear_seq != clear_seq) {
      p->frames_dropped_out++;   /* a barge-in dropped it while it waited */
      return GST_FLOW_OK;
    }
    if (!p->playing) {
      if (net::NetThread::on_network_thread()) {
        /* Never hold a network thread: a pipeline going to PAUSED loses this frame instead. */
        p->frames_dropped_out++;
        return GST_FLOW_OK;
      }
      /* Like a sink in PAUSED: hold the data until PLAYING (or a flush). */
      p->sink_cond.wait(lock);
      continue;
    }
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
    if (!clock) {
      p->sink_cond.wait_for(lock, std::chrono::milliseconds(20));
      continue;
    }
    GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
    GstClockTime now = gst_clock_get_time(clock);
    now_rt = now > base ? now - base : 0;
    GstClockTime due = frame_rt + p->latency;                 /* when it should be heard */
    GstClockTime lead = p->lead_ms * GST_MSECOND;
    GstClockTime send_at = due > lead ? due - lead : 0;
    /* And never more than `lead` in Twilio's buffer, whatever the timestamps say (a late start, a
     * burst after a stall): Twilio plays from the first frame it gets, in real time. */
    if (GST_CLOCK_TIME_IS_VALID(p->remote_end_rt) && p->remote_end_rt + kFrame > lead)
      send_at = std::max(send_at, p->remote_end_rt + kFrame - lead);
    /* On a network thread (realtimesink push-from-network-thread pushes from one) waiting would
     * stall every call on that thread: upstream paces with the same lead (its output-lead), and a
     * frame that comes early anyway goes out now. */
    if (now_rt >= send_at || net::NetThread::on_network_thread()) {
      /* Late: mid-burst, Twilio's buffer ran dry for more than a frame before this one came (an
       * audible gap: upstream or this thread stalled). */
      late = frame_rt == p->last_sent_end_rt && GST_CLOCK_TIME_IS_VALID(p->remote_end_rt) &&
          now_rt > p->remote_end_rt + kFrame;
      p->remote_end_rt = std::max(now_rt, GST_CLOCK_TIME_IS_VALID(p->remote_end_rt) ? p->remote_end_rt : 0) + kFrame;
      p->last_sent_end_rt = frame_rt + kFrame;
      gst_object_unref(clock);
      break;
    }
    p->clock_id = gst_clock_new_single_shot_id(clock, base + send_at);
    GstClockID id = p->clock_id;
    gst_object_unref(clock);
    lock.unlock();
    gst_clock_id_wait(id, nullptr);
    lock.lock();
    gst_clock_id_unref(id);
    p->clock_id = nullptr;
    /* Re-check everything: a flush, a clear or PLAYING→PAUSED may have woken us. */
  }

  if (p->stream != StreamState::Started || !p->socket) {
    p->frames_dropped_out++;   /* before `start` or after the stream ended: nobody to send to */
    return GST_FLOW_OK;
  }
  if (late)
    p->late_frames++;
  GST_LOG_OBJECT(self, "frame %" GST_TIME_FORMAT " sent%s; Twilio's buffer ends at %" GST_TIME_FORMAT,
      GST_TIME_ARGS(frame_rt), late ? " late" : "", GST_TIME_ARGS(p->remote_end_rt));
  p->held_media.append(reinterpret_cast<const char *>(frame), kFrameBytes);
  p->held_frames++;
  if (!GST_CLOCK_TIME_IS_VALID(p->unmarked_start))
    p->unmarked_start = frame_rt;
  p->unmarked_end = frame_rt + kFrame;
  p->frames_since_mark++;
  p->frames_out++;
  /* A message goes once full, or at once while Twilio holds less than half the lead of what was
   * really sent (a reply's start, or after a hiccup): held frames must not let its buffer run dry. */
  bool running_low = !GST_CLOCK_TIME_IS_VALID(p->sent_end_rt) ||
      p->sent_end_rt < now_rt + p->lead_ms * GST_MSECOND / 2;
  if (p->held_frames >= p->frames_per_message || running_low)
    send_held_media(p);
  return GST_FLOW_OK;
}

/* The end of a burst: mark what was sent so far, so its end is confirmed too (lock held). */
void mark_burst_end(Private *p)
{
  if (p->frames_since_mark == 0 || p->stream != StreamState::Started || !p->socket)
    return;
  send_held_media(p, true);
}

/* What the caller has heard (running time): the end of the last audio Twilio confirmed as played,
 * advanced by the time since that echo (Twilio plays in real time), but never past the audio sent,
 * nor past @now_rt (audio is stamped with when it is to be heard), nor on after a clear. Lock held. */
GstClockTime heard_position(Private *p, GstClockTime now_rt)
{
  GstClockTime position = p->marks.has_heard() ? p->marks.heard_end()
      : GST_CLOCK_TIME_IS_VALID(p->first_frame_rt) ? p->first_frame_rt
                                                   : 0;
  if (p->marks.has_heard() && p->heard_echo_us > 0 && GST_CLOCK_TIME_IS_VALID(p->last_sent_end_rt)) {
    GstClockTime advanced = position + (GstClockTime) (g_get_monotonic_time() - p->heard_echo_us) * GST_USECOND;
    advanced = std::min(advanced, p->last_sent_end_rt);
    if (GST_CLOCK_TIME_IS_VALID(now_rt))
      advanced = std::min(advanced, now_rt);
    position = std::max(position, advanced);
  }
  if (GST_CLOCK_TIME_IS_VALID(p->heard_at_clear))
    position = std::max(position, p->heard_at_clear);
  return position;
}

GstClockTime running_time_or_none(GstMulawBridge *self)
{
  GstClockTime now_rt = GST_CLOCK_TIME_NONE;
  return current_running_time(self, &now_rt) ? now_rt : GST_CLOCK_TIME_NONE;
}

void handle_clear(GstMulawBridge *self)
{
  Private *p = get_private(self);
  GstClockTime now_rt = running_time_or_none(self);
  std::lock_guard<std::mutex> lock(p->lock);
  /* What was heard up to now stays heard; nothing sent before the clear will be. */
  p->heard_at_clear = heard_position(p, now_rt);
  p->heard_echo_us = 0;
  p->clear_seq++;
  p->clears++;
  p->marks.clear();
  gst_adapter_clear(p->adapter);
  p->next_frame_rt = GST_CLOCK_TIME_NONE;
  p->remote_end_rt = p->last_sent_end_rt = GST_CLOCK_TIME_NONE;   /* Twilio's buffer is empty again */
  p->frames_since_mark = 0;
  p->held_media.clear();   /* never sent: nothing of it was heard */
  p->held_frames = 0;
  p->sent_end_rt = GST_CLOCK_TIME_NONE;
  p->unmarked_start = p->unmarked_end = GST_CLOCK_TIME_NONE;
  sink_wake(p);
  if (p->stream == StreamState::Started && p->socket)
    p->socket->send({twilio::build_clear(p->start.stream_sid)});
  GST_INFO_OBJECT(self, "barge-in: unsent audio dropped, clear sent (generation %" G_GUINT64_FORMAT ")",
      p->marks.generation());
}

/* End of our audio: the last partial frame goes out padded with silence, then a mark; EOS is posted
 * once Twilio has played it all (that mark comes back), the stream ends, or lead + 2 s passed. */
void handle_eos(GstMulawBridge *self, GstEvent *event)
{
  Private *p = get_private(self);
  std::unique_lock<std::mutex> lock(p->lock);
  p->eos_seqnum = gst_event_get_seqnum(event);
  gsize rest = gst_adapter_available(p->adapter);
  if (rest > 0 && GST_CLOCK_TIME_IS_VALID(p->next_frame_rt)) {
    guint8 frame[kFrameBytes];
    memset(frame, kMulawSilence, sizeof(frame));
    gst_adapter_copy(p->adapter, frame, 0, rest);
    gst_adapter_clear(p->adapter);
    GstClockTime rt = p->next_frame_rt;
    p->next_frame_rt += kFrame;
    if (pace_and_send(self, lock, frame, rt) == GST_FLOW_FLUSHING)
      return;
  }
  bool wait_for_mark = p->frames_since_mark > 0 && p->stream == StreamState::Started && p->socket;
  if (wait_for_mark) {
    mark_burst_end(p);
  } else if (p->stream == StreamState::Started && p->marks.outstanding() > 0) {
    wait_for_mark = true;   /* the last mark is already on its way */
  }
  if (wait_for_mark) {
    /* on_mark() posts EOS when no mark is outstanding any more; the timer is the backstop. */
    p->eos_pending = true;
    guint timeout = p->lead_ms + 2000;
    GST_INFO_OBJECT(self, "end of our audio: EOS once Twilio has played it (at most %u ms)", timeout);
    if (p->net) {
      p->eos_timer = p->net->add_timer(timeout, [self]() {
        Private *q = get_private(self);
        {
          std::lock_guard<std::mutex> l(q->lock);
          q->eos_timer = 0;
          if (!q->eos_pending)
            return;
        }
        GST_INFO_OBJECT(self, "Twilio did not confirm the end of our audio in time: EOS anyway");
        post_eos_once(self);
      });
    }
    return;
  }
  lock.unlock();
  post_eos_once(self);
}

GstClockTime running_time_of(Private *p, GstBuffer *buffer)
{
  if (!GST_BUFFER_PTS_IS_VALID(buffer))
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_running_time(&p->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
}

}  // namespace

void sink_wake(Private *p)
{
  if (p->clock_id)
    gst_clock_id_unschedule(p->clock_id);
  p->sink_cond.notify_all();
}

GstFlowReturn sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(parent);
  Private *p = get_private(self);
  std::unique_lock<std::mutex> lock(p->lock);
  if (p->sink_flushing) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  if (p->stream == StreamState::Ended) {
    /* Nobody listens any more: do not make upstream wait for the clock. */
    p->frames_dropped_out += gst_buffer_get_size(buffer) / kFrameBytes;
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  /* Frames are restamped from a running counter; a buffer that starts a frame (the usual case:
   * upstream sends whole periods) resynchronises it, so gaps upstream stay gaps. */
  GstClockTime rt = running_time_of(p, buffer);
  if (gst_adapter_available(p->adapter) == 0 || GST_BUFFER_IS_DISCONT(buffer) ||
      !GST_CLOCK_TIME_IS_VALID(p->next_frame_rt)) {
    if (GST_BUFFER_IS_DISCONT(buffer))
      gst_adapter_clear(p->adapter);
    if (GST_CLOCK_TIME_IS_VALID(rt)) {
      p->next_frame_rt = rt;
    } else if (!GST_CLOCK_TIME_IS_VALID(p->next_frame_rt)) {
      GstClockTime now = 0;
      lock.unlock();
      current_running_time(self, &now);
      lock.lock();
      p->next_frame_rt = now;
    }
  }
  gst_adapter_push(p->adapter, buffer);

  GstFlowReturn ret = GST_FLOW_OK;
  guint8 frame[kFrameBytes];
  while (ret == GST_FLOW_OK && gst_adapter_available(p->adapter) >= kFrameBytes) {
    gst_adapter_copy(p->adapter, frame, 0, kFrameBytes);
    gst_adapter_flush(p->adapter, kFrameBytes);
    GstClockTime frame_rt = p->next_frame_rt;
    p->next_frame_rt += kFrame;
    if (!GST_CLOCK_TIME_IS_VALID(p->first_frame_rt))
      p->first_frame_rt = frame_rt;
    ret = pace_and_send(self, lock, frame, frame_rt);
  }
  return ret;
}

gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(parent);
  Private *p = get_private(self);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB: {
      const GstStructure *s = gst_event_get_structure(event);
      if (s && gst_structure_has_name(s, CLAWVOICE_EVENT_CLEAR))
        handle_clear(self);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      std::lock_guard<std::mutex> lock(p->lock);
      if (segment->format == GST_FORMAT_TIME) {
        gst_segment_copy_into(segment, &p->segment);
      } else {
        GST_WARNING_OBJECT(self, "segment in %s: timestamps ignored", gst_format_get_name(segment->format));
        gst_segment_init(&p->segment, GST_FORMAT_TIME);
      }
      break;
    }
    case GST_EVENT_GAP: {
      /* Upstream has nothing to say for now: the burst ended, confirm its end. */
      std::lock_guard<std::mutex> lock(p->lock);
      mark_burst_end(p);
      break;
    }
    case GST_EVENT_EOS:
      handle_eos(self, event);
      break;
    case GST_EVENT_FLUSH_START: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->sink_flushing = true;
      sink_wake(p);
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->sink_flushing = false;
      gst_adapter_clear(p->adapter);
      p->held_media.clear();
      p->held_frames = 0;
      p->sent_end_rt = GST_CLOCK_TIME_NONE;
      gst_segment_init(&p->segment, GST_FORMAT_TIME);
      p->next_frame_rt = GST_CLOCK_TIME_NONE;
      p->eos_pending = false;
      p->eos_posted = false;
      break;
    }
    default:
      break;   /* caps are fixed by the template; nothing travels further from a sink */
  }
  gst_event_unref(event);
  return TRUE;
}

gboolean sink_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(parent);
  Private *p = get_private(self);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_POSITION: {
      GstFormat format;
      gst_query_parse_position(query, &format, nullptr);
      if (format != GST_FORMAT_TIME)
        return FALSE;
      /* What the caller HEARD (running time): the end of the last audio whose mark came back
       * unreleased, advanced since (heard_position()); before any, the start of what we sent. */
      GstClockTime now_rt = running_time_or_none(self);
      std::lock_guard<std::mutex> lock(p->lock);
      GstClockTime position = heard_position(p, now_rt);
      gst_query_set_position(query, GST_FORMAT_TIME, (gint64) position);
      return TRUE;
    }
    case GST_QUERY_CUSTOM: {
      /* The same answer, for realtimesink through any transforms in between (see the contract). */
      GstStructure *s = gst_query_writable_structure(query);
      if (!s || !gst_structure_has_name(s, CLAWVOICE_QUERY_HEARD_POSITION))
        return FALSE;
      GstClockTime now_rt = running_time_or_none(self);
      std::lock_guard<std::mutex> lock(p->lock);
      gst_structure_set(s, "position", G_TYPE_UINT64, (guint64) heard_position(p, now_rt), nullptr);
      return TRUE;
    }
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      return gst_pad_query_default(pad, parent, query);   /* the template: μ-law 8 kHz mono */
    default:
      /* Not forwarded: in `mulawbridge ! realtimesink ! mulawbridge.` it would go round the loop. */
      return FALSE;
  }
}

}  // namespace clawvoice::mulawbridge
