#include "sim_session.h"

#include "common/json_flat.h"
#include "net/context_runner.h"
#include "realtime/schema_validator.h"

#include <cstring>
#include <map>

namespace clawvoice::sim {

using json::ObjectPtr;

SimSession::SimSession(SimEnvironment &env, SoupWebsocketConnection *conn, ConnectionInfo info,
                       ClosedFn closed_fn)
    : env_(env),
      options_(env.options),
      context_(g_main_context_ref_thread_default()),
      conn_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn))),
      info_(std::move(info)),
      on_closed_(std::move(closed_fn)),
      conversation_id_(new_id("conv_"))
{
  if (info_.socket)
    g_object_ref(info_.socket);
  int64_t expires_at = g_get_real_time() / G_USEC_PER_SEC + options_.session_max_seconds;
  session_ = default_session(info_.model, options_.default_voice, expires_at);
  configure_input();
  g_signal_connect(conn_, "message", G_CALLBACK(on_message), this);
  g_signal_connect(conn_, "closed", G_CALLBACK(on_closed), this);
}

SimSession::~SimSession()
{
  stop_activity();
  g_signal_handlers_disconnect_by_data(conn_, this);
  g_object_unref(conn_);
  g_clear_object(&info_.socket);
  g_main_context_unref(context_);
}

void SimSession::within(const std::function<void()> &fn)
{
  if (net::ContextRunner::running_context() == context_ || !net::ContextRunner::on_runner_thread())
    fn();
  else
    net::ContextRunner::run_inline(context_, nullptr, fn);
}

void SimSession::adopt_call_session(JsonObject *accepted)
{
  if (!accepted)
    return;
  json::ObjectPtr patch = json::copy_object(accepted);
  if (auto model = json::get_optional_string(patch.get(), "model"))
    json_object_set_string_member(session_.get(), "model", model->c_str());
  json_object_remove_member(patch.get(), "model");   /* merge_session() is session.update, which cannot */
  merge_session(session_.get(), patch.get());
  configure_input();
  publish_session();
}

void SimSession::open()
{
  if (info_.beta) {
    send_error(errors::beta_shape_disabled());
    close(4000, "beta_api_shape_disabled");
    return;
  }
  ObjectPtr created = make_event("session.created");
  json_object_set_object_member(created.get(), "session",
                                json::copy_object(session_.get()).release());
  emit(std::move(created));
  publish_session();
  publish_conversation();
  expiry_ = g_timeout_source_new_seconds(options_.session_max_seconds);
  g_source_set_callback(expiry_, on_expiry, this, nullptr);
  g_source_attach(expiry_, g_main_context_get_thread_default());
}

bool SimSession::is_open() const
{
  return !closed_ && !dropped_ &&
         soup_websocket_connection_get_state(conn_) == SOUP_WEBSOCKET_STATE_OPEN;
}

/* Stops what could still send or fire: the response, the expiry timer. */
void SimSession::stop_activity()
{
  if (active_)
    active_->abort();
  if (expiry_) {
    g_source_destroy(expiry_);
    g_source_unref(expiry_);
    expiry_ = nullptr;
  }
}

void SimSession::close(gushort code, const char *reason)
{
  stop_activity();
  if (soup_websocket_connection_get_state(conn_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(conn_, code, reason);
}

void SimSession::drop()
{
  if (dropped_ || closed_)
    return;
  dropped_ = true;
  stop_activity();
  /* FIN without a close frame, as when a network path fails; libsoup then sees the EOF and
   * reports the connection closed. */
  if (info_.socket)
    g_socket_shutdown(info_.socket, TRUE, TRUE, nullptr);
  else
    g_io_stream_close(soup_websocket_connection_get_io_stream(conn_), nullptr, nullptr);
}

/* The service ends a session after 60 minutes with this error and a normal close (1000); we do
 * the same after Options::session_max_seconds. */
void SimSession::expire()
{
  if (!is_open())
    return;
  send_error(errors::session_expired());
  close(1000, "session_expired");
}

void SimSession::shutdown()
{
  close(1001, "server shutting down");
}

gboolean SimSession::on_expiry(gpointer data)
{
  auto *self = static_cast<SimSession *>(data);
  g_source_unref(self->expiry_);
  self->expiry_ = nullptr;
  self->expire();
  return G_SOURCE_REMOVE;
}

void SimSession::on_closed(SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<SimSession *>(data);
  if (self->closed_)
    return;
  self->closed_ = true;
  self->stop_activity();
  if (self->on_closed_)
    self->on_closed_(self);
}

void SimSession::emit(ObjectPtr event)
{
  if (!is_open())
    return;
  const char *type = json_object_get_string_member_with_default(event.get(), "type", "");
  if (strcmp(type, "response.created") == 0)
    env_.recorder.response_created();
  else if (strcmp(type, "response.done") == 0)
    env_.recorder.response_done();
  std::string text = json::to_string(event.get());
  soup_websocket_connection_send_text(conn_, text.c_str());
}

void SimSession::send_raw(const std::string &text)
{
  if (is_open())
    soup_websocket_connection_send_text(conn_, text.c_str());
}

void SimSession::send_error(const ErrorInfo &error)
{
  env_.recorder.add_error({error.code, error.message, error.param, error.event_id});
  emit(make_error_event(error));
}

bool SimSession::fail(ErrorInfo error, const std::string &event_id)
{
  error.event_id = event_id;
  send_error(error);
  return false;
}

void SimSession::on_message(SoupWebsocketConnection *conn, gint type, GBytes *message,
                            gpointer data)
{
  auto *self = static_cast<SimSession *>(data);
  gsize size = 0;
  const char *bytes = (const char *) g_bytes_get_data(message, &size);
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    self->handle_text(std::string(bytes ? bytes : "", size));
  else
    self->handle_binary(size);
}

void SimSession::handle_binary(size_t size)
{
  fail(errors::binary_frame(), "");
  env_.recorder.add_received({"", "<binary frame of " + std::to_string(size) + " bytes>", false,
                              info_.number});
}

void SimSession::handle_text(const std::string &text)
{
  ReceivedEvent received{"", options_.keep_received_events ? text : std::string(), true, info_.number};
  /* Appends (50 a second per call) are plain JSON: their object is built without json-glib's parser,
   * the same object it would build (json::FlatObject); the schema check below is the same either way. */
  thread_local json::FlatObject flat;
  json::ObjectPtr plain = flat.read(text, 0) ? flat.to_json_object() : nullptr;
  json::NodePtr node = plain ? nullptr : json::parse(text);
  if (!plain && !node) {
    received.valid = fail(errors::invalid_json(), "");
  } else if (!plain && !JSON_NODE_HOLDS_OBJECT(node.get())) {
    ErrorInfo e;
    e.code = "invalid_type";
    e.message = "Invalid type: expected an object.";
    received.valid = fail(e, "");
  } else {
    JsonObject *event = plain ? plain.get() : json_node_get_object(node.get());
    received.type = json::get_string(event, "type");
    std::string event_id = json::get_string(event, "event_id");
    auto error = realtime::SchemaValidator::instance().validate_client_event(event);
    if (error) {
      ErrorInfo e;
      e.code = error->code;
      e.message = error->message;
      e.param = error->param;
      received.valid = fail(e, event_id);
    } else {
      received.valid = dispatch(received.type, event, event_id);
    }
  }
  if (options_.keep_received_events)
    env_.recorder.add_received(std::move(received));
}

bool SimSession::dispatch(const std::string &type, JsonObject *event, const std::string &event_id)
{
  static const std::map<std::string, Handler> handlers = {
      {"session.update", &SimSession::handle_session_update},
      {"input_audio_buffer.append", &SimSession::handle_append},
      {"input_audio_buffer.commit", &SimSession::handle_commit},
      {"input_audio_buffer.clear", &SimSession::handle_clear},
      {"output_audio_buffer.clear", &SimSession::handle_output_buffer_clear},
      {"conversation.item.create", &SimSession::handle_item_create},
      {"conversation.item.delete", &SimSession::handle_item_delete},
      {"conversation.item.retrieve", &SimSession::handle_item_retrieve},
      {"conversation.item.truncate", &SimSession::handle_truncate},
      {"response.create", &SimSession::handle_response_create},
      {"response.cancel", &SimSession::handle_response_cancel},
  };
  auto it = handlers.find(type);
  if (it == handlers.end())
    return fail(errors::unknown_event_type(type), event_id);
  return (this->*(it->second))(event, event_id);
}

static std::string voice_in(JsonObject *session)
{
  return json::get_string(json::get_object(json::get_object(session, "audio"), "output"), "voice");
}

bool SimSession::handle_session_update(JsonObject *event, const std::string &event_id)
{
  JsonObject *patch = json::get_object(event, "session");
  if (!patch)
    return true;   /* the validator requires it; nothing to change otherwise */
  auto model = json::get_optional_string(patch, "model");
  if (model && *model != json::get_string(session_.get(), "model"))
    return fail(errors::cannot_update_model(), event_id);
  std::string voice = voice_in(patch);
  if (!voice.empty() && voice != voice_of(session_.get()) && assistant_audio_)
    return fail(errors::cannot_update_voice(), event_id);
  if (has_both_modalities(json::get_array(patch, "output_modalities")))
    return fail(errors::both_modalities("session.output_modalities"), event_id);

  ObjectPtr updated = json::copy_object(session_.get());
  merge_session(updated.get(), patch);
  apply_session(std::move(updated));
  ObjectPtr reply = make_event("session.updated");
  json_object_set_object_member(reply.get(), "session",
                                json::copy_object(session_.get()).release());
  emit(std::move(reply));
  return true;
}

void SimSession::apply_session(ObjectPtr session)
{
  session_ = std::move(session);
  AudioFormat format = input_format_of(session_.get());
  TurnDetection td = turn_detection_of(session_.get());
  bool input_changed = format.kind != input_format_.kind || td.mode != turn_detection_.mode ||
                       td.vad.threshold != turn_detection_.vad.threshold ||
                       td.vad.prefix_padding_ms != turn_detection_.vad.prefix_padding_ms ||
                       td.vad.silence_duration_ms != turn_detection_.vad.silence_duration_ms;
  if (input_changed)
    configure_input();
  else
    turn_detection_ = td;   /* create_response / interrupt_response */
  publish_session();
}

void SimSession::publish_session()
{
  env_.recorder.set_session(info_.number, json::to_string(session_.get()));
}

void SimSession::publish_conversation()
{
  env_.recorder.set_conversation(info_.number, conversation_.to_json());
}

}  // namespace clawvoice::sim
