/* clawvoice — realtimesink's conversation logic: what the element does with each server event.
 *
 * Runs on the shared network thread (the Realtime client's callbacks). Never blocks: it updates the
 * element's state under its lock, queues work for the src task, and posts bus messages. */
#include "clawvoice-contract.h"
#include "realtime/client_events.h"
#include "realtimesink/realtimesink_private.h"

#define GST_CAT_DEFAULT gst_realtime_sink_debug

namespace clawvoice::realtimesink {

using realtime::ServerEvent;

namespace {

void post_turn(GstRealtimeSink *self, const char *what, const std::string &item_id,
    const std::string &response_id = "", const std::string &status = "")
{
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TURN, "event", G_TYPE_STRING, what,
      "item-id", G_TYPE_STRING, item_id.c_str(), "response-id", G_TYPE_STRING, response_id.c_str(),
      "status", G_TYPE_STRING, status.c_str(), nullptr));
}

/* A call's worth of turns; beyond it the oldest lines go (the chain is not linked, say). */
constexpr size_t kMaxPendingTranscripts = 512;

void post_transcript(GstRealtimeSink *self, const char *role, const std::string &text,
    const std::string &item_id, bool final)
{
  if (final && !text.empty()) {
    Private *p = get_private(self);
    std::lock_guard<std::mutex> lock(p->lock);
    p->pending_transcripts.push_back({role, text, item_id});
    if (p->pending_transcripts.size() > kMaxPendingTranscripts)
      p->pending_transcripts.pop_front();
  }
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TRANSCRIPT, "role", G_TYPE_STRING, role,
      "text", G_TYPE_STRING, text.c_str(), "item-id", G_TYPE_STRING, item_id.c_str(),
      "final", G_TYPE_BOOLEAN, final, nullptr));
}

/* A transport's answer to CLAWVOICE_QUERY_HEARD_POSITION, through any transforms in between. */
bool heard_position_downstream(GstRealtimeSink *self, GstClockTime *position)
{
  GstStructure *s = gst_structure_new(CLAWVOICE_QUERY_HEARD_POSITION, "position", G_TYPE_UINT64,
      (guint64) GST_CLOCK_TIME_NONE, nullptr);
  GstQuery *query = gst_query_new_custom(GST_QUERY_CUSTOM, s);
  guint64 value = GST_CLOCK_TIME_NONE;
  bool answered = gst_pad_peer_query(get_src_pad(self), query) &&
      gst_structure_get_uint64(gst_query_get_structure(query), "position", &value) && GST_CLOCK_TIME_IS_VALID(value);
  gst_query_unref(query);
  if (answered)
    *position = value;
  return answered;
}

/* A sink linked straight to our src pad answers POSITION from its clock or ring buffer. (Through a
 * transform the answer would be what the transform last pushed, not what was heard.) */
bool sink_position_downstream(GstRealtimeSink *self, GstClockTime *position)
{
  GstPad *peer = gst_pad_get_peer(get_src_pad(self));
  if (!peer)
    return false;
  GstElement *element = gst_pad_get_parent_element(peer);
  bool is_sink = element && GST_OBJECT_FLAG_IS_SET(element, GST_ELEMENT_FLAG_SINK);
  gint64 value = -1;
  bool answered = is_sink && gst_pad_query_position(peer, GST_FORMAT_TIME, &value) && value >= 0;
  if (element)
    gst_object_unref(element);
  gst_object_unref(peer);
  if (answered)
    *position = (GstClockTime) value;
  return answered;
}

/* The position (running time) the listener has reached: a transport's account of what the far end
 * played, or a sink's POSITION, or else the clock minus the pipeline's latency. */
GstClockTime listener_position(GstRealtimeSink *self, GstClockTime downstream_latency)
{
  GstClockTime position = GST_CLOCK_TIME_NONE;
  if (heard_position_downstream(self, &position) || sink_position_downstream(self, &position))
    return position;
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock)
    return 0;
  GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(GST_ELEMENT(self));
  gst_object_unref(clock);
  GstClockTime latency = downstream_latency ? downstream_latency : 20 * GST_MSECOND;
  return now > latency ? now - latency : 0;
}

/* The caller spoke while the assistant's audio was playing or queued: stop it where the caller is. */
void barge_in(GstRealtimeSink *self)
{
  Private *p = get_private(self);
  std::string item;
  int64_t dropped_ms = 0;
  GstClockTime output_end = 0, latency = 0;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    item = p->current_item_id;
    if (item.empty() || p->playout.received_ms(item) == 0 || p->interrupted_items.count(item))
      return;
    if (p->response_active && !p->session.interrupt_response)
      return;   /* the user asked for replies that cannot be interrupted */
    dropped_ms = p->playout.clear();
    output_end = p->playout.output_end(item);
    latency = p->downstream_latency;
  }
  GstClockTime position = listener_position(self, latency);
  if (dropped_ms == 0 && output_end <= position)
    return;   /* the reply had already been heard to its end: a new turn, not a barge-in */

  /* Downstream transports with their own buffer (Twilio) drop it too, out of band, at once. */
  gst_pad_push_event(get_src_pad(self),
      gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM_OOB, gst_structure_new_empty(CLAWVOICE_EVENT_CLEAR)));

  std::lock_guard<std::mutex> lock(p->lock);
  p->interrupted_items.insert(item);
  int64_t received = p->playout.received_ms(item);
  int64_t heard = p->playout.heard_ms(item, position);
  p->barge_ins++;
  GST_INFO_OBJECT(self, "barge-in on %s: heard %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
      " ms received, dropped %" G_GINT64_FORMAT " ms queued", item.c_str(), heard, received, dropped_ms);
  post_turn(self, "barge-in", item, p->current_response_id);
  if (!p->client)
    return;
  p->client->send(realtime::build_item_truncate(item, heard, "cv_truncate"));
  p->truncations++;
  p->truncated_at_ms[item] = heard;
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TRUNCATE, "item-id", G_TYPE_STRING, item.c_str(),
      "audio-end-ms", G_TYPE_INT64, heard, "received-ms", G_TYPE_INT64, received, nullptr));
}

void on_tool_call(GstRealtimeSink *self, JsonObject *event)
{
  Private *p = get_private(self);
  std::string call_id = json::get_string(event, "call_id");
  std::string name = json::get_string(event, "name");
  std::string arguments = json::get_string(event, "arguments", "{}");
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TOOL_CALL, "call-id", G_TYPE_STRING, call_id.c_str(),
      "name", G_TYPE_STRING, name.c_str(), "arguments", G_TYPE_STRING, arguments.c_str(), nullptr));
  bool known;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    p->tool_calls++;
    known = p->tool_names.count(name) > 0;
    if (known) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "call_id");
      json_builder_add_string_value(b, call_id.c_str());
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, name.c_str());
      json_builder_set_member_name(b, "arguments");
      json_builder_add_string_value(b, arguments.c_str());
      json_builder_end_object(b);
      json::NodePtr root(json_builder_get_root(b));
      p->pending_tool_calls.push_back(json::to_string(root.get()));
      p->outstanding_calls.insert(call_id);
    }
  }
  if (!known) {
    GST_WARNING_OBJECT(self, "the model called '%s', which no executor serves", name.c_str());
    handle_tool_result(self, call_id,
        "{\"error\":\"There is no tool named '" + name + "'. Tell the caller it is not available.\"}", true, true);
  }
}

void on_response_done(GstRealtimeSink *self, JsonObject *event)
{
  Private *p = get_private(self);
  JsonObject *response = json::get_object(event, "response");
  std::string response_id = json::get_string(response, "id");
  std::string status = json::get_string(response, "status");
  realtime::Usage usage = realtime::parse_usage(event);
  bool create_now = false;
  double cost = 0, total = 0;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    p->response_active = false;
    p->usage += usage;
    cost = realtime::cost_usd(usage, p->prices);
    p->cost_usd += cost;
    total = p->cost_usd;
    /* The item's audio is complete: let a last partial period out. */
    if (!p->current_item_id.empty())
      p->playout.finish_item(p->current_item_id);
    /* Remember what the assistant said, cut to what was heard if the caller interrupted. */
    auto transcript = p->assistant_transcripts.find(p->current_item_id);
    if (transcript != p->assistant_transcripts.end() && p->client) {
      std::string text = transcript->second;
      auto cut = p->truncated_at_ms.find(p->current_item_id);
      int64_t received = p->playout.received_ms(p->current_item_id);
      if (cut != p->truncated_at_ms.end() && received > 0)
        text = text.substr(0, (size_t) ((double) text.size() * (double) cut->second / (double) received)) + "…";
      p->client->add_history(realtime::HistoryEntry::Role::Assistant, text);
      p->assistant_transcripts.erase(transcript);
    }
    if (p->response_create_pending) {
      p->response_create_pending = false;
      create_now = true;
      request_response_locked(p);   /* under this lock: never a moment with nothing pending */
    }
  }
  post_turn(self, "response-done", "", response_id, status);
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_USAGE, "response-id", G_TYPE_STRING, response_id.c_str(),
      "input-tokens", G_TYPE_INT64, usage.input_tokens, "output-tokens", G_TYPE_INT64, usage.output_tokens,
      "input-audio-tokens", G_TYPE_INT64, usage.input_audio_tokens,
      "output-audio-tokens", G_TYPE_INT64, usage.output_audio_tokens,
      "cached-tokens", G_TYPE_INT64, usage.input_cached_tokens,
      "cost", G_TYPE_DOUBLE, cost, "total-cost", G_TYPE_DOUBLE, total, nullptr));
  if (!create_now)
    flush_injects(self);
}

void on_error(GstRealtimeSink *self, JsonObject *event)
{
  Private *p = get_private(self);
  realtime::ServerError e = realtime::parse_error(event);
  if (e.code == "response_cancel_not_active") {
    GST_DEBUG_OBJECT(self, "cancel raced with the end of the response: harmless");
    return;
  }
  if (e.code == "conversation_already_has_active_response") {
    /* Our response.create crossed one the server started itself: ask again when it is done. */
    std::lock_guard<std::mutex> lock(p->lock);
    p->response_requested = false;
    p->response_create_pending = true;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (e.event_id == "cv_response")
      p->response_requested = false;
  }
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_SERVER_ERROR, "type", G_TYPE_STRING, e.type.c_str(),
      "code", G_TYPE_STRING, e.code.c_str(), "message", G_TYPE_STRING, e.message.c_str(),
      "param", G_TYPE_STRING, e.param.c_str(), "event-id", G_TYPE_STRING, e.event_id.c_str(), nullptr));
  if (e.code == "session_expired") {
    GST_INFO_OBJECT(self, "session expired: reconnecting");
    return;
  }
  GST_ELEMENT_WARNING(self, STREAM, FAILED, ("The Realtime service reported an error: %s", e.message.c_str()),
      ("code %s, param %s, event %s", e.code.c_str(), e.param.c_str(), e.event_id.c_str()));
}

}  // namespace

void request_response_locked(Private *p)
{
  if (!p->client)
    return;
  if (p->response_active || p->response_requested) {
    /* Never while a response is active: the service would refuse it. */
    p->response_create_pending = true;
    return;
  }
  p->response_requested = true;
  p->client->send(realtime::build_response_create("", "cv_response"));
}

void request_response(GstRealtimeSink *self)
{
  Private *p = get_private(self);
  std::lock_guard<std::mutex> lock(p->lock);
  request_response_locked(p);
}

void flush_injects(GstRealtimeSink *self)
{
  Private *p = get_private(self);
  {
    bool respond = false;
    std::lock_guard<std::mutex> lock(p->lock);
    if (!p->client)
      return;
    bool busy = p->response_active || p->response_requested || p->awaiting_server_response;
    while (!p->pending_injects.empty()) {
      PendingInject &inject = p->pending_injects.front();
      if (busy || (p->speech_active && !inject.urgent))
        break;
      p->client->send(inject.role == "user" ? realtime::build_user_text_item(inject.text, "cv_inject")
                                            : realtime::build_system_text_item(inject.text, "cv_inject"));
      respond = respond || inject.respond;
      p->pending_injects.pop_front();
    }
    /* Under the same lock as the pop: no moment where the injects are gone and no response asked
     * (the end-of-stream check would take the conversation for finished). */
    if (respond)
      request_response_locked(p);
  }
}

void handle_tool_result(GstRealtimeSink *self, const std::string &call_id, const std::string &output,
    bool respond, bool is_error)
{
  Private *p = get_private(self);
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (!p->client)
      return;
    if (!is_error && !p->outstanding_calls.count(call_id)) {
      GST_WARNING_OBJECT(self, "result for unknown or already answered call %s: ignored", call_id.c_str());
      return;
    }
    p->outstanding_calls.erase(call_id);
    p->client->send(realtime::build_function_call_output(call_id, output, "cv_tool_output"));
    /* Asked under the lock that took the call off the outstanding list, so the end-of-stream
     * check never sees neither a call nor a response pending. */
    if (respond)
      request_response_locked(p);
  }
  post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_TOOL_RESULT, "call-id", G_TYPE_STRING, call_id.c_str(),
      "output", G_TYPE_STRING, output.c_str(), "error", G_TYPE_BOOLEAN, is_error, nullptr));
}

void handle_server_event(GstRealtimeSink *self, ServerEvent &event)
{
  Private *p = get_private(self);
  JsonObject *body = event.body.get();
  const std::string &type = event.type;

  if (type == "response.output_audio.delta") {
    std::vector<uint8_t> audio;
    if (!realtime::decode_audio_delta(body, &audio)) {
      GST_ELEMENT_WARNING(self, STREAM, DECODE, ("The Realtime server sent audio that is not valid base64."),
          ("event %s", type.c_str()));
      return;
    }
    std::string item = json::get_string(body, "item_id");
    std::lock_guard<std::mutex> lock(p->lock);
    p->deltas++;
    if (p->interrupted_items.count(item))
      return;   /* sent before the server saw the barge-in: the caller must not hear it */
    p->current_item_id = item;
    p->playout.push(item, audio.data(), audio.size());
    return;
  }

  if (type == "input_audio_buffer.speech_started") {
    std::string item = json::get_string(body, "item_id");
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->speech_active = true;
    }
    post_turn(self, "speech-started", item);
    barge_in(self);
  } else if (type == "input_audio_buffer.speech_stopped") {
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->speech_active = false;
      p->awaiting_server_response = p->session.create_response;
    }
    post_turn(self, "speech-stopped", json::get_string(body, "item_id"));
  } else if (type == "input_audio_buffer.committed") {
    std::lock_guard<std::mutex> lock(p->lock);
    p->uncommitted_ms = 0;
  } else if (type == "conversation.item.input_audio_transcription.delta") {
    post_transcript(self, "user", json::get_string(body, "delta"), json::get_string(body, "item_id"), false);
  } else if (type == "conversation.item.input_audio_transcription.completed") {
    std::string text = json::get_string(body, "transcript");
    {
      std::lock_guard<std::mutex> lock(p->lock);
      if (p->client)
        p->client->add_history(realtime::HistoryEntry::Role::User, text);
    }
    post_transcript(self, "user", text, json::get_string(body, "item_id"), true);
  } else if (type == "response.created") {
    std::string id = json::get_string(json::get_object(body, "response"), "id");
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->response_active = true;
      p->response_requested = false;
      p->awaiting_server_response = false;
      p->current_response_id = id;
    }
    post_turn(self, "response-started", "", id);
  } else if (type == "response.output_item.added") {
    JsonObject *item = json::get_object(body, "item");
    if (json::get_string(item, "type") == "message") {
      std::lock_guard<std::mutex> lock(p->lock);
      p->current_item_id = json::get_string(item, "id");
    }
  } else if (type == "response.output_audio.done") {
    std::lock_guard<std::mutex> lock(p->lock);
    p->playout.finish_item(json::get_string(body, "item_id"));
  } else if (type == "response.output_audio_transcript.delta") {
    post_transcript(self, "assistant", json::get_string(body, "delta"), json::get_string(body, "item_id"), false);
  } else if (type == "response.output_audio_transcript.done") {
    std::string item = json::get_string(body, "item_id");
    std::string text = json::get_string(body, "transcript");
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->assistant_transcripts[item] = text;
    }
    post_transcript(self, "assistant", text, item, true);
  } else if (type == "response.function_call_arguments.done") {
    /* Act on this event only: the same call shows again in response.output_item.done. */
    on_tool_call(self, body);
  } else if (type == "response.done") {
    on_response_done(self, body);
  } else if (type == "error") {
    on_error(self, body);
  } else if (type == "session.created" || type == "session.updated") {
    GST_DEBUG_OBJECT(self, "%s", type.c_str());
  } else if (!realtime::is_known_server_event(type)) {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->warned_event_types.insert(type).second) {
      GST_ELEMENT_WARNING(self, STREAM, WRONG_TYPE, ("The Realtime server sent an unknown event: %s", type.c_str()),
          ("ignored; newer protocol version?"));
    }
  }
}

}  // namespace clawvoice::realtimesink
