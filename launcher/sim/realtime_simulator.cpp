/* RealtimeSimulator: the HTTP/WebSocket server on its own thread, the door (authentication,
 * beta clients), the open connections, and the thread-safe public API.
 *
 * One thread runs everything, so the simulator's state needs no locks: a net::ContextRunner runs
 * the server's GMainContext (HTTP, the fake gateway, calls, WebRTC) and one context per Realtime
 * WebSocket connection. A caller's frame then wakes only its connection's few sources; with a
 * single context, every frame of two hundred simultaneous calls made GLib walk and poll all of
 * their sockets, and the simulator, not the bridge under test, set the benchmark's ceiling.
 * Code that runs for the server's context and touches a session goes through
 * SimSession::within(). */
#include "realtime_simulator.h"

#include "fake_gateway.h"
#include "net/context_runner.h"
#include "net/websocket_upgrade.h"
#include "sim_calls.h"
#include "sim_recorder.h"
#include "sim_session.h"
#include "sim_webrtc_calls.h"
#include "speech_synth.h"

#include <libsoup/soup.h>

#include <condition_variable>
#include <cstring>
#include <mutex>

namespace clawvoice::sim {

static const char kPath[] = "/v1/realtime";
static const char kBadKeyBody[] =
    "{\"error\":{\"message\":\"Incorrect API key provided.\",\"type\":\"invalid_request_error\","
    "\"code\":\"invalid_api_key\",\"param\":null}}";

struct RealtimeSimulator::Impl {
  explicit Impl(Options o) : options(std::move(o)), gateway(options.agent) {}

  Options options;
  FakeGateway gateway;   /* the OpenClaw gateway's endpoints, on the same server */
  SimCalls calls{options.api_key};   /* calls control and client secrets, on the same server */
  std::unique_ptr<SimWebRtcCalls> webrtc;   /* POST /v1/realtime/calls: browser-direct WebRTC calls */
  Recorder recorder;
  SpeechSynthesizer synth;
  SimEnvironment env{options, recorder, synth, {-1}};

  std::unique_ptr<net::ContextRunner> runner;   /* the simulator's one thread */
  GMainContext *context = nullptr;              /* the server's */
  std::atomic<unsigned> port{0};
  bool running = false;   /* start() / stop() are called from one thread */

  /* Loop thread only. */
  SoupServer *server = nullptr;
  std::vector<std::unique_ptr<SimSession>> sessions;
  int next_connection = 1;
  std::map<SimSession *, std::string> sideband_calls;   /* sideband session → its call id */

  bool start(std::string *error);
  void stop();
  bool listen(std::string *error);
  void close_server();
  void release(std::unique_ptr<SimSession> session);
  void run_sync(const std::function<void()> &fn);
  void invoke(std::function<void()> fn);
  void each_open_session(const std::function<void(SimSession &)> &fn);
  bool authorised(SoupServerMessage *msg) const;
  SimWebRtcCalls::Context webrtc_context();
  bool sideband_of_ended_call(SoupServerMessage *msg) const;   /* ?call_id= of a call that is over */
  void upgrade(SoupServerMessage *msg);
  void accept(ConnectionInfo info, net::StolenWebSocket &socket);
  void session_closed(SimSession *session);

  static void on_early(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer data);
  static void on_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer data);
};

/* ---- lifecycle ---------------------------------------------------------------------------- */

bool RealtimeSimulator::Impl::start(std::string *error)
{
  if (running)
    return true;
  context = g_main_context_new();
  runner = std::make_unique<net::ContextRunner>("clawvoice-sim");
  runner->add(context, nullptr);
  synth.deliver_on(context);
  std::string failure;
  run_sync([&] {
    if (!listen(&failure)) {
      failure = failure.empty() ? "listen failed" : failure;
      close_server();
    }
  });
  if (!failure.empty()) {
    runner->remove(context);
    runner.reset();
    g_main_context_unref(context);
    context = nullptr;
    if (error)
      *error = failure;
    return false;
  }
  running = true;
  return true;
}

/* Closes every connection, lets the close frames and any synthesis in flight finish (waiting from
 * here, while the simulator's thread goes on running every context), then frees the server. */
void RealtimeSimulator::Impl::stop()
{
  if (!running)
    return;
  auto wait_until = [this](gint64 max_us, const std::function<bool()> &done) {
    const gint64 end = g_get_monotonic_time() + max_us;
    bool finished = false;
    while (true) {
      run_sync([&] { finished = done(); });
      if (finished || g_get_monotonic_time() >= end)
        return;
      g_usleep(2000);
    }
  };
  run_sync([this] {
    if (webrtc)
      webrtc->shutdown();   /* their bridge sessions close below with the others */
    for (auto &session : sessions)
      session->within([&] { session->shutdown(); });
  });
  wait_until(500 * 1000, [this] { return sessions.empty() && synth.pending() == 0; });
  run_sync([this] {
    while (!sessions.empty()) {
      std::unique_ptr<SimSession> session = std::move(sessions.back());
      sessions.pop_back();
      release(std::move(session));
    }
  });
  wait_until(10 * G_USEC_PER_SEC, [this] { return synth.pending() == 0; });
  run_sync([this] { close_server(); });
  g_usleep(50 * 1000);   /* the last close frames and HTTP answers */
  runner->remove(context);
  runner.reset();
  g_main_context_unref(context);
  context = nullptr;
  running = false;
}

static GInetAddress *address_for(const std::string &host)
{
  if (host == "localhost")
    return g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  return g_inet_address_new_from_string(host.c_str());
}

bool RealtimeSimulator::Impl::listen(std::string *error)
{
  server = soup_server_new("server-header", "clawvoice-sim ", nullptr);
  soup_server_add_early_handler(server, kPath, on_early, this, nullptr);
  soup_server_add_handler(server, kPath, on_request, this, nullptr);
  gateway.attach(server, context);
  env.calls = &calls;
  calls.attach(server, [this](const std::string &call_id) {
    std::vector<SimSession *> ending;   /* closing may call back into session_closed() */
    for (auto &[session, id] : sideband_calls)
      if (id == call_id && session->is_open())
        ending.push_back(session);
    for (SimSession *session : ending)
      session->within([session] { session->close(SOUP_WEBSOCKET_CLOSE_NORMAL, "call ended"); });
  });
  webrtc = std::make_unique<SimWebRtcCalls>(webrtc_context(), context);
  calls.set_offer_handler([this](SoupServerMessage *msg) { webrtc->handle(msg); });
  calls.set_webrtc_hangup([this](const std::string &call_id) -> std::string {
    if (webrtc->hang_up(call_id))
      return "hung_up";
    for (const SimWebRtcCallRecord &r : webrtc->records())
      if (r.call_id == call_id)
        return "over";
    return "";
  });
  GInetAddress *inet = address_for(options.host);
  if (!inet) {
    *error = "not an IP address: " + options.host;
    return false;
  }
  GSocketAddress *address = g_inet_socket_address_new(inet, (guint16) options.port);
  GSocketFamily family = g_inet_address_get_family(inet);
  g_object_unref(inet);
  /* Our own socket, for a real server's accept backlog (Node's is 511; GLib's default of 10
   * drops the SYNs of a burst of new connections, which then wait a second to retry). */
  GError *err = nullptr;
  GSocket *socket = g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  gboolean ok = socket != nullptr;
  if (ok) {
    g_socket_set_listen_backlog(socket, 511);
    ok = g_socket_bind(socket, address, TRUE, &err) && g_socket_listen(socket, &err) &&
         soup_server_listen_socket(server, socket, (SoupServerListenOptions) 0, &err);
  }
  g_clear_object(&socket);
  g_object_unref(address);
  if (!ok) {
    *error = std::string("cannot listen on ") + options.host + ":" +
             std::to_string(options.port) + ": " + (err ? err->message : "?");
    g_clear_error(&err);
    return false;
  }
  GSList *listeners = soup_server_get_listeners(server);
  if (listeners) {
    GSocketAddress *local = g_socket_get_local_address(G_SOCKET(listeners->data), nullptr);
    if (local) {
      port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
      g_object_unref(local);
    }
  }
  g_slist_free(listeners);
  return true;
}

void RealtimeSimulator::Impl::close_server()
{
  gateway.shutdown();
  calls.shutdown();
  if (server) {
    soup_server_disconnect(server);
    g_clear_object(&server);
  }
}

/* Frees a session, then its connection's context: the runner dispatches what is still ready in
 * it and lets it go. */
void RealtimeSimulator::Impl::release(std::unique_ptr<SimSession> session)
{
  GMainContext *session_context = g_main_context_ref(session->context());
  session->within([&] { session.reset(); });
  runner->remove(session_context);
  g_main_context_unref(session_context);
}

/* ---- running code on the loop ------------------------------------------------------------- */

namespace {

struct Call {
  std::function<void()> fn;
  std::mutex lock;
  std::condition_variable cv;
  bool done = false;
};

gboolean call_run(gpointer data)
{
  (*static_cast<std::shared_ptr<Call> *>(data))->fn();
  return G_SOURCE_REMOVE;
}

void call_done(gpointer data)
{
  auto *call = static_cast<std::shared_ptr<Call> *>(data);
  {
    std::lock_guard<std::mutex> guard((*call)->lock);
    (*call)->done = true;
  }
  (*call)->cv.notify_all();
  delete call;
}

}  // namespace

/* Runs @fn in the server's context on the simulator's thread and waits for it (directly when
 * already there). Not g_main_context_invoke(): from a thread that finds the context unowned (before
 * the runner took it), that would run @fn right there. */
void RealtimeSimulator::Impl::run_sync(const std::function<void()> &fn)
{
  if (runner->is_current_thread()) {
    if (net::ContextRunner::running_context() == context)
      fn();
    else
      net::ContextRunner::run_inline(context, nullptr, fn);
    return;
  }
  auto call = std::make_shared<Call>();
  call->fn = fn;
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, call_run, new std::shared_ptr<Call>(call), call_done);
  g_source_attach(source, context);
  g_source_unref(source);
  std::unique_lock<std::mutex> guard(call->lock);
  call->cv.wait(guard, [&] { return call->done; });
}

void RealtimeSimulator::Impl::invoke(std::function<void()> fn)
{
  if (running)
    run_sync(fn);
}

void RealtimeSimulator::Impl::each_open_session(const std::function<void(SimSession &)> &fn)
{
  invoke([this, &fn] {
    for (auto &session : sessions)
      if (session->is_open())
        session->within([&] { fn(*session); });
  });
}

/* ---- the door ----------------------------------------------------------------------------- */

/* What a WebRTC call needs of the simulator: the door's keys, a client secret's session, and its
 * own WebSocket URL for the bridge session. */
SimWebRtcCalls::Context RealtimeSimulator::Impl::webrtc_context()
{
  SimWebRtcCalls::Context c;
  c.api_key = options.api_key;
  c.valid_client_secret = [this](const std::string &key) { return calls.valid_client_secret(key); };
  c.client_secret_session = [this](const std::string &key) -> std::string {
    for (const SimClientSecret &secret : calls.client_secrets()) {
      if (secret.value != key)
        continue;
      json::ObjectPtr request = json::parse_object(secret.request_body);
      JsonObject *session = request ? json::get_object(request.get(), "session") : nullptr;
      return session ? json::to_string(session) : "";
    }
    return "";
  };
  c.realtime_url = [this] {
    bool v6 = options.host.find(':') != std::string::npos;
    return "ws://" + (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(port.load()) + kPath;
  };
  std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  if (g_hostname_is_ip_address(host.c_str()) && host != "0.0.0.0" && host != "::")
    c.ice_address = host;
  return c;
}

static std::string bearer_key(SoupMessageHeaders *headers)
{
  const char *auth = soup_message_headers_get_one(headers, "Authorization");
  if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0) {
    g_autofree char *key = g_strstrip(g_strdup(auth + 7));
    if (*key)
      return key;
  }
  /* Browsers cannot set headers: the key rides in a subprotocol. */
  const char *protocols = soup_message_headers_get_list(headers, "Sec-WebSocket-Protocol");
  static const char prefix[] = "openai-insecure-api-key.";
  g_auto(GStrv) list = g_strsplit(protocols ? protocols : "", ",", -1);
  for (char **p = list; *p; p++) {
    char *proto = g_strstrip(*p);
    if (g_str_has_prefix(proto, prefix))
      return proto + strlen(prefix);
  }
  return "";
}

bool RealtimeSimulator::Impl::authorised(SoupServerMessage *msg) const
{
  std::string key = bearer_key(soup_server_message_get_request_headers(msg));
  return !key.empty() && (options.api_key.empty() || key == options.api_key || calls.valid_client_secret(key));
}

bool RealtimeSimulator::Impl::sideband_of_ended_call(SoupServerMessage *msg) const
{
  const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
  if (!query)
    return false;
  GHashTable *params = soup_form_decode(query);
  const char *call_id = (const char *) g_hash_table_lookup(params, "call_id");
  SimCallRecord call;
  bool ended = call_id && calls.call(call_id, &call) && (call.state == "ended" || call.state == "rejected");
  g_hash_table_unref(params);
  return ended;
}

void RealtimeSimulator::Impl::on_early(SoupServer *server, SoupServerMessage *msg,
                                       const char *path, GHashTable *query, gpointer data)
{
  auto *self = static_cast<Impl *>(data);
  if (self->authorised(msg) && !self->sideband_of_ended_call(msg))
    return;
  /* POST /v1/realtime/calls checks its own bearers (client secrets) and answers CORS preflights. */
  if (strcmp(path, "/v1/realtime/calls") == 0)
    return;
  if (self->authorised(msg)) {
    static const char kEnded[] =
        "{\"error\":{\"message\":\"The call has ended.\",\"type\":\"invalid_request_error\","
        "\"code\":\"call_not_active\",\"param\":\"call_id\"}}";
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, nullptr);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, kEnded, strlen(kEnded));
    return;
  }
  /* Never echo the key back. */
  soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, kBadKeyBody,
                                   strlen(kBadKeyBody));
}

void RealtimeSimulator::Impl::on_request(SoupServer *server, SoupServerMessage *msg,
                                         const char *path, GHashTable *query, gpointer data)
{
  static_cast<Impl *>(data)->upgrade(msg);
}

/* The TCP socket under an accepted WebSocket (libsoup hangs it on the stolen stream). */
static GSocket *socket_of(SoupWebsocketConnection *conn)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream(conn);
  if (G_IS_SOCKET_CONNECTION(stream))
    return g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
  gpointer socket = g_object_get_data(G_OBJECT(stream), "GSocket");
  return socket && G_IS_SOCKET(socket) ? G_SOCKET(socket) : nullptr;
}

/* The WebSocket handshake, as soup_server_add_websocket_handler() would answer it (subprotocol
 * "realtime", permessage-deflate); once the 101 is written the connection gets a context of its
 * own on the simulator's thread. */
void RealtimeSimulator::Impl::upgrade(SoupServerMessage *msg)
{
  ConnectionInfo info;
  if (const char *query = g_uri_get_query(soup_server_message_get_uri(msg))) {
    GHashTable *params = soup_form_decode(query);
    if (auto *model = (const char *) g_hash_table_lookup(params, "model"))
      info.model = model;
    if (auto *call_id = (const char *) g_hash_table_lookup(params, "call_id"))
      info.call_id = call_id;
    g_hash_table_unref(params);
  }
  const char *beta = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                                  "OpenAI-Beta");
  info.beta = beta && strstr(beta, "realtime=v1");
  static const char *const kProtocols[] = {"realtime", nullptr};
  net::upgrade_websocket(msg, kProtocols, true, [this, info](std::unique_ptr<net::StolenWebSocket> socket) {
    GMainContext *connection_context = g_main_context_new();
    runner->add(connection_context, nullptr);
    net::ContextRunner::run_inline(connection_context, nullptr, [&] { accept(info, *socket); });
    g_main_context_unref(connection_context);   /* the session holds it */
  });
}

/* Runs as the connection's own context: the session's sources live there. */
void RealtimeSimulator::Impl::accept(ConnectionInfo info, net::StolenWebSocket &socket)
{
  SoupWebsocketConnection *conn = socket.connect();
  info.number = next_connection++;
  info.socket = socket_of(conn);
  std::string raw_call_id = info.call_id;
  recorder.connection_opened();
  auto session = std::make_unique<SimSession>(env, conn, std::move(info),
                                              [this](SimSession *s) { session_closed(s); });
  SimSession *raw = session.get();
  if (!raw_call_id.empty()) {
    SimCallRecord call;
    if (calls.call(raw_call_id, &call) && !call.accept_body.empty()) {
      json::ObjectPtr accepted = json::parse_object(call.accept_body);
      raw->adopt_call_session(accepted.get());
    }
    sideband_calls[raw] = raw_call_id;
    calls.sideband_opened(raw_call_id);
  }
  sessions.push_back(std::move(session));
  g_object_unref(conn);   /* the session holds it */
  raw->open();
}

/* Called from the session's "closed" handler: free it from an idle, off its own stack. */
void RealtimeSimulator::Impl::session_closed(SimSession *session)
{
  recorder.connection_closed();
  sideband_calls.erase(session);
  struct Erase {
    Impl *self;
    SimSession *session;
  };
  GSource *idle = g_idle_source_new();
  g_source_set_callback(
      idle,
      [](gpointer data) -> gboolean {
        auto *e = static_cast<Erase *>(data);
        auto &list = e->self->sessions;
        for (auto it = list.begin(); it != list.end(); ++it) {
          if (it->get() == e->session) {
            std::unique_ptr<SimSession> closed = std::move(*it);
            list.erase(it);
            e->self->release(std::move(closed));
            break;
          }
        }
        return G_SOURCE_REMOVE;
      },
      new Erase{this, session}, [](gpointer data) { delete static_cast<Erase *>(data); });
  g_source_attach(idle, context);
  g_source_unref(idle);
  g_main_context_wakeup(context);   /* attached from the session's context, on the same thread */
}

/* ---- public API --------------------------------------------------------------------------- */

RealtimeSimulator::RealtimeSimulator(Options options)
    : impl_(std::make_unique<Impl>(std::move(options)))
{
}

RealtimeSimulator::~RealtimeSimulator()
{
  stop();
}

bool RealtimeSimulator::start(std::string *error)
{
  return impl_->start(error);
}

void RealtimeSimulator::stop()
{
  impl_->stop();
}

unsigned RealtimeSimulator::port() const
{
  return impl_->port.load();
}

std::string RealtimeSimulator::url() const
{
  return "ws://" + impl_->options.host + ":" + std::to_string(port()) + kPath;
}

std::string RealtimeSimulator::gateway_url() const
{
  const std::string &host = impl_->options.host;
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

void RealtimeSimulator::close_next_reply_after_ms(int64_t ms)
{
  impl_->env.close_next_reply_after_ms = ms < 0 ? -1 : ms;   /* negative: disarm */
}

void RealtimeSimulator::send_error_event(const std::string &code, const std::string &message)
{
  ErrorInfo error;
  error.type = g_str_has_prefix(code.c_str(), "server") ? "server_error" : "invalid_request_error";
  error.code = code;
  error.message = message;
  impl_->each_open_session([&](SimSession &s) { s.send_error(error); });
}

void RealtimeSimulator::send_raw_text(const std::string &text)
{
  impl_->each_open_session([&](SimSession &s) { s.send_raw(text); });
}

void RealtimeSimulator::expire_sessions_now()
{
  impl_->each_open_session([](SimSession &s) { s.expire(); });
}

void RealtimeSimulator::drop_all_connections()
{
  impl_->each_open_session([](SimSession &s) { s.drop(); });
}

std::vector<ReceivedEvent> RealtimeSimulator::received_events() const
{
  return impl_->recorder.received_events();
}

std::vector<Truncation> RealtimeSimulator::truncations() const
{
  return impl_->recorder.truncations();
}

std::vector<ErrorSent> RealtimeSimulator::errors_sent() const
{
  return impl_->recorder.errors_sent();
}

std::vector<UserTurn> RealtimeSimulator::user_turns() const
{
  return impl_->recorder.user_turns();
}

int RealtimeSimulator::connections_accepted() const
{
  return impl_->recorder.connections_accepted();
}

int RealtimeSimulator::connections_open() const
{
  return impl_->recorder.connections_open();
}

int64_t RealtimeSimulator::input_audio_ms() const
{
  return impl_->recorder.input_audio_ms();
}

int RealtimeSimulator::responses_in_flight() const
{
  return impl_->recorder.responses_in_flight();
}

std::string RealtimeSimulator::current_session_json() const
{
  return impl_->recorder.session_json();
}

std::string RealtimeSimulator::conversation_json() const
{
  return impl_->recorder.conversation_json();
}

std::vector<AgentRequestRecord> RealtimeSimulator::agent_requests() const
{
  return impl_->gateway.requests();
}

std::vector<AgentHookRecord> RealtimeSimulator::agent_hooks() const
{
  return impl_->gateway.hooks();
}

std::vector<AgentTurn> RealtimeSimulator::agent_session(const std::string &session_key) const
{
  return impl_->gateway.session(session_key);
}

std::string RealtimeSimulator::place_sip_call(const SipCallRequest &request)
{
  std::string call_id;
  impl_->invoke([&] { call_id = impl_->calls.place_call(request); });
  return call_id;
}

int RealtimeSimulator::sip_caller_says(const std::string &call_id, const std::string &text)
{
  int heard = 0;
  impl_->invoke([&] {
    std::vector<SimSession *> sessions;   /* the turn may end a session (a fault armed): copy first */
    for (auto &[session, id] : impl_->sideband_calls)
      if (id == call_id && session->is_open())
        sessions.push_back(session);
    for (SimSession *session : sessions)
      session->within([&] { heard += session->caller_says(text) ? 1 : 0; });
  });
  return heard;
}

bool RealtimeSimulator::sip_caller_hangs_up(const std::string &call_id)
{
  bool ended = false;
  impl_->invoke([&] { ended = impl_->calls.caller_hangs_up(call_id); });
  return ended;
}

std::vector<SimWebRtcCallRecord> RealtimeSimulator::webrtc_calls() const
{
  return impl_->webrtc ? impl_->webrtc->records() : std::vector<SimWebRtcCallRecord>{};
}

std::vector<SimCallRecord> RealtimeSimulator::sip_calls() const
{
  return impl_->calls.calls();
}

bool RealtimeSimulator::sip_call(const std::string &call_id, SimCallRecord *out) const
{
  return impl_->calls.call(call_id, out);
}

std::vector<SimClientSecret> RealtimeSimulator::client_secrets() const
{
  return impl_->calls.client_secrets();
}

std::vector<SimRestRecord> RealtimeSimulator::rest_requests() const
{
  return impl_->calls.rest_requests();
}

}  // namespace clawvoice::sim
