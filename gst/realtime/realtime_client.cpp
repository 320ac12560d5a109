#include "realtime/realtime_client.h"

#include <algorithm>

#include "realtime/client_events.h"

namespace clawvoice::realtime {

namespace {
constexpr size_t kMaxHistoryChars = 16000;   /* ≈ 4000 tokens of context restored at most */
constexpr gushort kCloseBetaShape = 4000;
constexpr gushort kCloseNormal = 1000;   /* RFC 6455 */
}  // namespace

const char *connection_state_name(ConnectionState state)
{
  switch (state) {
    case ConnectionState::Disconnected: return "disconnected";
    case ConnectionState::Connecting: return "connecting";
    case ConnectionState::Connected: return "connected";
    case ConnectionState::Reconnecting: return "reconnecting";
    case ConnectionState::Failed: return "failed";
  }
  return "unknown";
}

RealtimeClient::RealtimeClient(std::shared_ptr<net::NetThread> thread, ConnectOptions options,
    SessionConfig session, RealtimeClientCallbacks callbacks)
    : thread_(std::move(thread)),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      session_(std::move(session))
{
  socket_ = std::make_unique<net::WebSocketClient>(thread_, net::WebSocketCallbacks{
      [this]() { on_open(); },
      [this](std::string text) { on_message(std::move(text)); },
      [this](guint status, std::string message) { on_connect_failed(status, std::move(message)); },
      [this](gushort code, std::string reason) { on_closed(code, std::move(reason)); },
  });
}

RealtimeClient::~RealtimeClient()
{
  stop();
}

std::string RealtimeClient::connect_url() const
{
  std::string url = options_.url;
  url += (url.find('?') == std::string::npos) ? '?' : '&';
  if (!options_.call_id.empty()) {
    g_autofree gchar *escaped = g_uri_escape_string(options_.call_id.c_str(), nullptr, FALSE);
    url += std::string("call_id=") + escaped;
  } else {
    std::lock_guard<std::mutex> lock(lock_);
    g_autofree gchar *escaped = g_uri_escape_string(session_.model.c_str(), nullptr, FALSE);
    url += std::string("model=") + escaped;
  }
  return url;
}

void RealtimeClient::start()
{
  thread_->invoke_sync([this]() {
    stopping_ = false;
    failed_attempts_ = 0;
    connect_now();
  });
}

void RealtimeClient::stop()
{
  if (!socket_)
    return;
  {
    std::lock_guard<std::mutex> lock(lock_);
    backlog_.clear();
    held_barriers_ = 0;
  }
  thread_->invoke_sync([this]() {
    stopping_ = true;
    thread_->cancel_timer(reconnect_timer_);
    reconnect_timer_ = 0;
  });
  socket_->shutdown();
  socket_.reset();
  state_.store(ConnectionState::Disconnected);
}

void RealtimeClient::connect_now()
{
  reconnect_timer_ = 0;
  if (stopping_)
    return;
  set_state(ever_connected_ ? ConnectionState::Reconnecting : ConnectionState::Connecting, "");
  net::Headers headers;
  if (!options_.api_key.empty())
    headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  socket_->connect(connect_url(), headers, options_.connect_timeout_s);
}

void RealtimeClient::on_open()
{
  bool restoring = ever_connected_;
  ever_connected_ = true;
  failed_attempts_ = 0;
  session_expired_ = false;
  SessionConfig session;
  std::deque<HistoryEntry> history;
  {
    std::lock_guard<std::mutex> lock(lock_);
    session = session_;
    history = history_;
  }
  /* The WebSocket keeps order: the server applies the session before anything we send after it.
   * What was held while connecting goes last, under the lock, so nothing overtakes it. */
  {
    std::lock_guard<std::mutex> lock(lock_);
    updates_acked_ = updates_sent_;   /* updates sent on a dead connection will never be answered */
    updates_sent_ += 1 + held_barriers_;   /* this one, then the barriers held in the backlog */
    held_barriers_ = 0;
    socket_->send_text(build_session_update(session, "cv_session"));
    if (restoring) {
      for (const HistoryEntry &entry : history) {
        socket_->send_text(entry.role == HistoryEntry::Role::User
                               ? build_user_text_item(entry.text, "cv_restore")
                               : build_assistant_text_item(entry.text, "cv_restore"));
      }
    }
    for (std::string &held : backlog_) {
      if (held.empty())   /* a held barrier: the current session, so it cannot undo a later change */
        socket_->send_text(build_session_update(session, "cv_barrier"));
      else
        socket_->send_text(std::move(held));
    }
    backlog_.clear();
    state_.store(ConnectionState::Connected);
  }
  if (restoring)
    reconnects_.fetch_add(1);
  set_state(ConnectionState::Connected, restoring ? "reconnected" : "");
}

void RealtimeClient::on_message(std::string text)
{
  std::string error;
  std::optional<ServerEvent> event = parse_server_event(text, &error);
  if (!event) {
    if (callbacks_.on_protocol_error)
      callbacks_.on_protocol_error("malformed server event: " + error);
    return;
  }
  if (event->type == "session.updated") {
    std::lock_guard<std::mutex> lock(lock_);
    updates_acked_++;
  }
  if (event->type == "error") {
    ServerError e = parse_error(event->body.get());
    if (e.code == "session_expired")
      session_expired_ = true;   /* the close that follows is expected: reconnect at once */
  }
  if (callbacks_.on_event)
    callbacks_.on_event(*event);
}

void RealtimeClient::on_connect_failed(guint status, std::string message)
{
  if (stopping_)
    return;
  std::string detail = status ? "HTTP " + std::to_string(status) + ": " + message : message;
  if (status == 401 || status == 403) {
    /* Bad credentials do not get better by retrying. */
    set_state(ConnectionState::Failed, detail);
    if (callbacks_.on_fatal)
      callbacks_.on_fatal(status, "authentication failed (" + detail + ")");
    return;
  }
  if (!ever_connected_) {
    /* A first connection that fails is a configuration problem (wrong url, service down): say so
     * now rather than retrying behind the user's back. */
    set_state(ConnectionState::Failed, detail);
    if (callbacks_.on_fatal)
      callbacks_.on_fatal(status, "could not connect to the Realtime service: " + detail);
    return;
  }
  schedule_reconnect(detail);
}

void RealtimeClient::on_closed(gushort code, std::string reason)
{
  if (stopping_)
    return;
  if (code == kCloseBetaShape) {
    set_state(ConnectionState::Failed, reason);
    if (callbacks_.on_fatal)
      callbacks_.on_fatal(0, "the service closed the session (" + std::to_string(code) + " " + reason + ")");
    return;
  }
  if (session_expired_) {
    failed_attempts_ = 0;
    schedule_reconnect("session expired");
    return;
  }
  if (!options_.call_id.empty() && code == kCloseNormal) {
    /* OpenAI closes a call's sideband normally when the call is over (hang-up, transfer). */
    call_ended_.store(true);
    set_state(ConnectionState::Disconnected, "the call ended (the service closed the sideband)");
    return;
  }
  schedule_reconnect("connection closed (" + std::to_string(code) + (reason.empty() ? "" : " " + reason) + ")");
}

void RealtimeClient::schedule_reconnect(const std::string &why)
{
  if (failed_attempts_ >= options_.max_reconnect_attempts) {
    set_state(ConnectionState::Failed, why);
    if (callbacks_.on_fatal)
      callbacks_.on_fatal(0, "connection lost and " + std::to_string(failed_attempts_) +
                                 " reconnect attempts failed: " + why);
    return;
  }
  /* Exponential backoff; the first retry after a working session is quick. */
  unsigned delay = options_.backoff_initial_ms;
  for (int i = 0; i < failed_attempts_ && delay < options_.backoff_max_ms; i++)
    delay *= 2;
  delay = std::min(delay, options_.backoff_max_ms);
  if (session_expired_)
    delay = 0;
  failed_attempts_++;
  set_state(ConnectionState::Reconnecting, why);
  reconnect_timer_ = thread_->add_timer(delay, [this]() { connect_now(); });
}

void RealtimeClient::set_state(ConnectionState state, const std::string &detail)
{
  state_.store(state);
  if (callbacks_.on_state)
    callbacks_.on_state(state, detail);
}

bool RealtimeClient::send_or_hold(std::string event_text)
{
  std::lock_guard<std::mutex> lock(lock_);
  if (!socket_)
    return false;
  ConnectionState state = state_.load();
  if (state == ConnectionState::Connected) {
    socket_->send_text(std::move(event_text));
    return true;
  }
  if ((state == ConnectionState::Connecting || state == ConnectionState::Reconnecting) &&
      backlog_.size() < options_.max_backlog_events) {
    backlog_.push_back(std::move(event_text));
    return true;
  }
  return false;
}

void RealtimeClient::send(std::string event_text)
{
  send_or_hold(std::move(event_text));
}

bool RealtimeClient::send_audio(const uint8_t *audio, size_t size)
{
  if (!socket_ || socket_->pending_bytes() > options_.max_pending_bytes ||
      !send_or_hold(build_input_audio_append(audio, size))) {
    audio_dropped_.fetch_add(1);
    return false;
  }
  return true;
}

void RealtimeClient::modify_session(const std::function<void(SessionConfig &)> &change)
{
  std::lock_guard<std::mutex> lock(lock_);
  change(session_);
  /* Not connected: the next connection sends the whole session anyway. */
  if (socket_ && state_.load() == ConnectionState::Connected) {
    updates_sent_++;
    socket_->send_text(build_session_update(session_, "cv_session"));
  }
}

guint64 RealtimeClient::request_barrier()
{
  std::lock_guard<std::mutex> lock(lock_);
  if (socket_ && state_.load() == ConnectionState::Connected) {
    updates_sent_++;
    socket_->send_text(build_session_update(session_, "cv_barrier"));
    return updates_sent_;
  }
  /* Not connected: the barrier must pass only once the server has seen what is held, so it goes
   * at the END of the backlog (held even when the backlog is full), not with the session update
   * the next connection sends first. */
  backlog_.push_back(std::string());   /* an empty entry is a barrier, built at send time */
  held_barriers_++;
  return updates_sent_ + 1 + held_barriers_;
}

bool RealtimeClient::barrier_passed(guint64 token) const
{
  std::lock_guard<std::mutex> lock(lock_);
  return updates_acked_ >= token;
}

void RealtimeClient::add_history(HistoryEntry::Role role, const std::string &text)
{
  if (text.empty())
    return;
  std::lock_guard<std::mutex> lock(lock_);
  history_.push_back({role, text});
  history_chars_ += text.size();
  while (history_chars_ > kMaxHistoryChars && history_.size() > 1) {
    history_chars_ -= history_.front().text.size();
    history_.pop_front();
  }
}

std::deque<HistoryEntry> RealtimeClient::history() const
{
  std::lock_guard<std::mutex> lock(lock_);
  return history_;
}

guint64 RealtimeClient::events_dropped() const
{
  return socket_ ? socket_->frames_dropped() : 0;
}

}  // namespace clawvoice::realtime
