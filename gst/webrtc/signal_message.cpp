#include "webrtc/signal_message.h"

#include "common/json.h"

namespace clawvoice::webrtc {

static BrowserParse refuse(const std::string &why)
{
  BrowserParse out;
  out.error = why;
  return out;
}

BrowserParse parse_browser_message(const std::string &text)
{
  if (text.size() > kMaxSignalMessageBytes)
    return refuse("message too large (" + std::to_string(text.size()) + " bytes, at most " +
                  std::to_string(kMaxSignalMessageBytes) + ")");
  std::string why;
  json::NodePtr root = json::parse(text, &why);
  if (!root)
    return refuse("not JSON: " + why);
  if (!JSON_NODE_HOLDS_OBJECT(root.get()))
    return refuse("not a JSON object");
  JsonObject *o = json_node_get_object(root.get());

  std::optional<std::string> type = json::get_optional_string(o, "type");
  if (!type)
    return refuse("no string \"type\"");
  JsonNode *session = json_object_get_member(o, "session_id");
  if (session && !(JSON_NODE_HOLDS_VALUE(session) && json_node_get_value_type(session) == G_TYPE_STRING))
    return refuse("\"session_id\" must be a string");
  JsonNode *payload_node = json_object_get_member(o, "payload");
  if (payload_node && !JSON_NODE_HOLDS_OBJECT(payload_node) && !JSON_NODE_HOLDS_NULL(payload_node))
    return refuse("\"payload\" must be an object");
  JsonObject *payload = payload_node && JSON_NODE_HOLDS_OBJECT(payload_node) ? json_node_get_object(payload_node) : nullptr;

  BrowserMessage message;
  message.session_id = session ? json_node_get_string(session) : "";
  if (*type == "offer") {
    message.type = BrowserMessageType::Offer;
    std::optional<std::string> sdp = payload ? json::get_optional_string(payload, "sdp") : std::nullopt;
    if (!sdp || sdp->empty())
      return refuse("offer without payload.sdp");
    if (sdp->compare(0, 4, "v=0\r") != 0 && sdp->compare(0, 4, "v=0\n") != 0)
      return refuse("payload.sdp is not an SDP description (it must start with v=0)");
    message.sdp = *sdp;
  } else if (*type == "ice") {
    message.type = BrowserMessageType::Ice;
    if (!payload)
      return refuse("ice without payload");
    std::optional<std::string> candidate = json::get_optional_string(payload, "candidate");
    if (!candidate)
      return refuse("ice without a string payload.candidate");
    JsonNode *index = json_object_get_member(payload, "sdpMLineIndex");
    if (!index || !JSON_NODE_HOLDS_VALUE(index) || json_node_get_value_type(index) != G_TYPE_INT64)
      return refuse("ice without an integer payload.sdpMLineIndex");
    gint64 mline = json_node_get_int(index);
    if (mline < 0 || mline > 63)
      return refuse("payload.sdpMLineIndex out of range: " + std::to_string(mline));
    if (candidate->size() > 1024)
      return refuse("payload.candidate too long");
    message.ice.candidate = *candidate;
    message.ice.sdp_mline_index = (guint) mline;
    message.ice.sdp_mid = json::get_string(payload, "sdpMid");
  } else if (*type == "bye") {
    message.type = BrowserMessageType::Bye;
  } else {
    return refuse("unknown message type \"" + type->substr(0, 32) + "\" (a browser sends offer, ice or bye)");
  }
  BrowserParse out;
  out.message = std::move(message);
  return out;
}

const char *signal_state_name(SignalState state)
{
  switch (state) {
    case SignalState::Connecting: return "connecting";
    case SignalState::Live: return "live";
    case SignalState::Reconnecting: return "reconnecting";
    case SignalState::Ended: return "ended";
    case SignalState::Failed: return "failed";
  }
  return "failed";
}

/* {"type", "session_id", "payload": <built by @fill>} */
template <typename Fill>
static std::string frame(const char *type, const std::string &session_id, Fill fill)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, type);
  json_builder_set_member_name(b, "session_id");
  json_builder_add_string_value(b, session_id.c_str());
  json_builder_set_member_name(b, "payload");
  json_builder_begin_object(b);
  fill(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  json::NodePtr root(json_builder_get_root(b));
  g_object_unref(b);
  return json::to_string(root.get());
}

static void add(JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

std::string answer_message(const std::string &session_id, const std::string &sdp)
{
  return frame("answer", session_id, [&](JsonBuilder *b) {
    add(b, "type", "answer");
    add(b, "sdp", sdp);
  });
}

std::string ice_message(const std::string &session_id, const IceCandidate &candidate)
{
  return frame("ice", session_id, [&](JsonBuilder *b) {
    add(b, "candidate", candidate.candidate);
    if (!candidate.sdp_mid.empty())
      add(b, "sdpMid", candidate.sdp_mid);
    json_builder_set_member_name(b, "sdpMLineIndex");
    json_builder_add_int_value(b, candidate.sdp_mline_index);
  });
}

std::string state_message(const std::string &session_id, SignalState state, const std::string &reason)
{
  return frame("state", session_id, [&](JsonBuilder *b) {
    add(b, "state", signal_state_name(state));
    if (!reason.empty())
      add(b, "reason", reason);
  });
}

std::string error_message(const std::string &session_id, const std::string &text)
{
  return frame("error", session_id, [&](JsonBuilder *b) { add(b, "message", text); });
}

std::string bye_message(const std::string &session_id, const std::string &reason)
{
  return frame("bye", session_id, [&](JsonBuilder *b) {
    if (!reason.empty())
      add(b, "reason", reason);
  });
}

std::string event_message(const std::string &session_id, JsonObject *payload)
{
  json::ObjectPtr copy = json::copy_object(payload);
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, copy.release());
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "type", "event");
  json_object_set_string_member(o, "session_id", session_id.c_str());
  json_object_set_member(o, "payload", node);
  std::string out = json::to_string(o);
  json_object_unref(o);
  return out;
}

}  // namespace clawvoice::webrtc
