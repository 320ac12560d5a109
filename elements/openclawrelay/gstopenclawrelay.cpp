/**
 * SECTION:element-openclawrelay
 * @title: openclawrelay
 *
 * openclawrelay puts the user's OpenClaw agent behind the voice. It serves one tool to the voice
 * model (by default `send_to_openclaw`, one string parameter `message`): each call becomes a task,
 * a streamed `POST /v1/chat/completions` to the OpenClaw gateway in a pinned session
 * (`x-openclaw-session-key`: the user's main session, one per caller or one per call).
 *
 * Asynchronous by design: the model gets an immediate result (`ack-text`, "I'm on it") so it can
 * tell the caller; when the agent's answer arrives it is cleaned for speech (no markdown, code,
 * tables or raw URLs) and handed back to realtimesink as a system message to be said once the
 * caller's turn and any reply in progress are over (or at once with `urgent`). A task that takes
 * longer than `progress-delay` gets a short spoken progress cue; one that takes longer than
 * `timeout` is cancelled with a spoken apology; a gateway failure (401, 429, 5xx, refused,
 * malformed stream) becomes an honest spoken failure and a warning, never silence. Several tasks
 * may run at once (`max-tasks`); each posts a `clawvoice-task` element message on every status
 * change, and the `tasks` property lists them. End of stream, a flush or a state change out of
 * PAUSED (the caller hung up) cancels the tasks still running.
 *
 * With `memory-dir` set, the agent's memory (MEMORY.md and the newest memory/YYYY-MM-DD.md files,
 * within `memory-budget` tokens) is given to the voice model as context when the call starts, and
 * the call (a summary, the requests and answers, the transcript of every turn) is appended to the
 * day's file when it ends (and handed to the agent with `POST /hooks/agent` when `post-transcript`
 * is set). The transcript comes from realtimesink on the tools link (CLAWVOICE_EVENT_TRANSCRIPT).
 *
 * Calls for other tools pass through to the next executor, so executors chain.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=question.wav ! wavparse ! audioconvert ! audioresample ! \
 *     audio/x-raw,format=S16LE,rate=24000,channels=1 ! identity sync=true ! \
 *     realtimesink name=rt url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! \
 *     wavenc ! filesink location=reply.wav \
 *     rt.tools ! openclawrelay url=http://127.0.0.1:8765 token=demo-token session-mode=caller \
 *         caller=+15551234567 ! httptools tools-file=calendar-tools.json
 * ]| The voice answers questions by asking the agent behind the (simulated) gateway; calendar tools
 * are served by httptools after it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "openclawrelay/gstopenclawrelay.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "net/net_thread.h"
#include "openclaw/gateway_client.h"
#include "openclawrelay/openclawrelay-messages.h"
#include "openclawrelay/relay_memory.h"
#include "openclawrelay/relay_phrases.h"
#include "openclawrelay/relay_settings.h"
#include "openclawrelay/relay_tasks.h"

GST_DEBUG_CATEGORY(gst_openclaw_relay_debug);
#define GST_CAT_DEFAULT gst_openclaw_relay_debug

using namespace clawvoice;
using namespace clawvoice::openclawrelay;

namespace {

constexpr const char *kDefaultUrl = "http://127.0.0.1:18789";
constexpr const char *kTokenEnv = "OPENCLAW_GATEWAY_TOKEN";
constexpr const char *kMask = "********";
constexpr size_t kMaxTranscriptLines = 2000;   /* a long call's worth; the memory file stays sane */

struct Private {
  std::mutex lock;   /* guards everything below */

  /* Properties (recorded by the setters; used at the next start). */
  std::string url = kDefaultUrl;
  std::string token;
  std::string agent_id = "main";
  std::string tool_name = kDefaultToolName;
  std::string tool_description = kDefaultToolDescription;
  SessionMode session_mode = SessionMode::Caller;
  std::string session_key;
  std::string caller;
  std::string call_id;
  std::string main_session_key;
  std::string ack_text = kDefaultAckText;
  guint progress_delay_ms = 8000;
  std::string progress_text = kDefaultProgressText;
  guint timeout_ms = 60000;
  std::string timeout_text = kDefaultTimeoutText;
  bool urgent = false;
  guint max_tasks = 4;
  std::string memory_dir;
  guint memory_budget = 2000;
  std::string hooks_token;
  bool post_transcript = false;

  /* One call: from READY→PAUSED to the end of stream or PAUSED→READY. */
  std::shared_ptr<net::NetThread> net;
  std::shared_ptr<openclaw::GatewayClient> gateway;
  std::unique_ptr<TaskBoard> board;
  std::string memory_message;       /* given to the voice model when the stream starts */
  bool memory_sent = false;
  CallEndPlan end_plan;
  bool call_ended = true;
  std::string last_tasks_json = "[]";   /* the previous call's tasks, once it is over */
};

}  // namespace

struct _GstOpenClawRelay {
  GstToolExecutor parent;
  Private *priv;
};

G_DEFINE_TYPE(GstOpenClawRelay, gst_openclaw_relay, GST_TYPE_TOOL_EXECUTOR);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(openclawrelay, "openclawrelay", GST_RANK_NONE, GST_TYPE_OPENCLAW_RELAY,
    GST_DEBUG_CATEGORY_INIT(gst_openclaw_relay_debug, "clawvoice-openclawrelay", 0,
        "OpenClaw agent relay"));

enum {
  PROP_0,
  PROP_URL,
  PROP_TOKEN,
  PROP_AGENT_ID,
  PROP_TOOL_NAME,
  PROP_TOOL_DESCRIPTION,
  PROP_SESSION_MODE,
  PROP_SESSION_KEY,
  PROP_CALLER,
  PROP_CALL_ID,
  PROP_MAIN_SESSION_KEY,
  PROP_ACK_TEXT,
  PROP_PROGRESS_DELAY,
  PROP_PROGRESS_TEXT,
  PROP_TIMEOUT,
  PROP_TIMEOUT_TEXT,
  PROP_URGENT,
  PROP_MAX_TASKS,
  PROP_MEMORY_DIR,
  PROP_MEMORY_BUDGET,
  PROP_HOOKS_TOKEN,
  PROP_POST_TRANSCRIPT,
  PROP_TASKS,
};

GType gst_openclaw_relay_session_mode_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {(gint) SessionMode::Main, "The user's main session, shared with their text channels", "main"},
      {(gint) SessionMode::Caller, "One session per caller (the caller property)", "caller"},
      {(gint) SessionMode::Call, "One session per call (the call-id property)", "call"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstOpenClawRelaySessionMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

/* ---- Tasks → bus, voice, tasks property ---- */

static std::string tasks_json(const std::vector<TaskSnapshot> &tasks)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (const TaskSnapshot &t : tasks) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, t.id);
    json_builder_set_member_name(b, "call-id");
    json_builder_add_string_value(b, t.call_id.c_str());
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, task_status_name(t.status));
    json_builder_set_member_name(b, "question");
    json_builder_add_string_value(b, t.question.c_str());
    json_builder_set_member_name(b, "elapsed-ms");
    json_builder_add_int_value(b, t.elapsed_ms);
    if (t.status == TaskStatus::Done) {
      json_builder_set_member_name(b, "answer");
      json_builder_add_string_value(b, t.answer.c_str());
    } else if (!t.error.empty()) {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, t.error.c_str());
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json::NodePtr root(json_builder_get_root(b));
  return json::to_string(root.get());
}

static void post_task(GstOpenClawRelay *self, const TaskSnapshot &t)
{
  GstStructure *s = gst_structure_new(CLAWVOICE_MESSAGE_TASK, "task-id", G_TYPE_UINT, t.id,
      "call-id", G_TYPE_STRING, t.call_id.c_str(), "status", G_TYPE_STRING, task_status_name(t.status),
      "question", G_TYPE_STRING, t.question.c_str(), "elapsed-ms", G_TYPE_INT64, t.elapsed_ms, nullptr);
  if (t.status == TaskStatus::Done)
    gst_structure_set(s, "answer", G_TYPE_STRING, t.answer.c_str(), nullptr);
  else if (!t.error.empty())
    gst_structure_set(s, "error", G_TYPE_STRING, t.error.c_str(), nullptr);
  GST_INFO_OBJECT(self, "task %u (%s): %s after %" G_GINT64_FORMAT " ms", t.id, t.call_id.c_str(),
      task_status_name(t.status), t.elapsed_ms);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static void say(GstOpenClawRelay *self, const std::string &text, bool urgent)
{
  if (!gst_tool_executor_inject(GST_TOOL_EXECUTOR(self), text.c_str(), "system", urgent))
    GST_WARNING_OBJECT(self, "nobody upstream took the message for the voice (%zu chars)", text.size());
}

static void warn_failure(GstOpenClawRelay *self, const TaskSnapshot &t, const openclaw::GatewayError &e)
{
  const char *kind = openclaw::gateway_error_kind_name(e.kind);
  if (e.kind == openclaw::GatewayErrorKind::Unauthorized) {
    GST_ELEMENT_WARNING(self, RESOURCE, NOT_AUTHORIZED, ("The OpenClaw gateway refused the token."),
        ("task %u: %s, HTTP %u: %s", t.id, kind, e.http_status, e.message.c_str()));
  } else {
    GST_ELEMENT_WARNING(self, RESOURCE, READ, ("The OpenClaw agent could not answer: %s.", kind),
        ("task %u: HTTP %u, retry-after %d s: %s", t.id, e.http_status, e.retry_after_s, e.message.c_str()));
  }
}

/* ---- Tool calls (streaming thread) ---- */

static gchar *gst_openclaw_relay_get_tools(GstToolExecutor *base)
{
  Private *p = GST_OPENCLAW_RELAY(base)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  return g_strdup(("[" + tool_definition(p->tool_name, p->tool_description) + "]").c_str());
}

/* The question in the model's arguments: `message`, else the only string member there is. */
static std::string question_of(const gchar *arguments_json)
{
  json::ObjectPtr args = json::parse_object(arguments_json ? arguments_json : "");
  if (!args)
    return "";
  std::string message = json::get_string(args.get(), "message");
  if (!message.empty() || json_object_get_size(args.get()) != 1)
    return message;
  g_autoptr(GList) members = json_object_get_members(args.get());
  return json::get_string(args.get(), static_cast<const char *>(members->data));
}

static gboolean gst_openclaw_relay_handle_call(GstToolExecutor *base, const gchar *call_id, const gchar *name,
    const gchar *arguments_json)
{
  GstOpenClawRelay *self = GST_OPENCLAW_RELAY(base);
  Private *p = self->priv;
  g_autofree gchar *stripped = g_strstrip(g_strdup(question_of(arguments_json).c_str()));
  std::string question = stripped;
  if (question.empty()) {
    GST_WARNING_OBJECT(self, "call %s (%s) without a question: %s", call_id, name, arguments_json);
    gst_tool_executor_send_result(base, call_id, empty_request_result().c_str(), TRUE);
    return TRUE;
  }

  guint id = 0, active = 0;
  std::string ack;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    if (p->board)
      id = p->board->reserve(call_id, question, &active);
    ack = p->ack_text;
  }
  if (!id) {
    GST_WARNING_OBJECT(self, "call %s refused: %u tasks already running (max-tasks)", call_id, active);
    gst_tool_executor_send_result(base, call_id, busy_result(active).c_str(), TRUE);
    return TRUE;
  }
  /* The acknowledgement first, so the answer can never reach the model before it. */
  gst_tool_executor_send_result(base, call_id, ack.c_str(), TRUE);
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->board)
    p->board->launch(id);
  return TRUE;
}

/* ---- The call's start and end ---- */

static gboolean start_call(GstOpenClawRelay *self)
{
  Private *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (!g_uri_is_valid(p->url.c_str(), G_URI_FLAGS_NONE, nullptr) ||
      !(g_str_has_prefix(p->url.c_str(), "http://") || g_str_has_prefix(p->url.c_str(), "https://"))) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The OpenClaw gateway URL is not valid: %s", p->url.c_str()),
        ("expected http(s)://host:port"));
    return FALSE;
  }
  openclaw::GatewayOptions options;
  options.base_url = p->url;
  while (!options.base_url.empty() && options.base_url.back() == '/')
    options.base_url.pop_back();
  options.token = p->token;
  if (options.token.empty()) {
    const gchar *env = g_getenv(kTokenEnv);
    options.token = env ? env : "";
  }
  if (options.token.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("No OpenClaw gateway token: set token or %s.", kTokenEnv),
        ("requests go out without Authorization; the gateway will most likely refuse them"));
  }
  options.agent_id = p->agent_id;

  std::string call_id = p->call_id;
  if (call_id.empty()) {
    g_autofree gchar *uuid = g_uuid_string_random();
    call_id = uuid;
  }
  RelaySettings settings;
  settings.session_key = session_key_for(p->session_mode, p->agent_id, p->session_key, p->main_session_key,
      p->caller, call_id);
  std::string problem = openclaw::session_key_problem(settings.session_key);
  if (!problem.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The OpenClaw session key is refused: %s", problem.c_str()),
        ("session key '%s'", settings.session_key.c_str()));
    return FALSE;
  }
  settings.question_system_prompt = kVoiceTurnPrompt;
  settings.progress_text = p->progress_text;
  settings.timeout_text = p->timeout_text;
  settings.progress_delay_ms = p->progress_delay_ms;
  settings.timeout_ms = p->timeout_ms;
  settings.max_tasks = p->max_tasks;
  settings.urgent = p->urgent;

  p->gateway = std::make_shared<openclaw::GatewayClient>(p->net, options);
  TaskBoardCallbacks callbacks;
  callbacks.say = [self](const std::string &text, bool urgent) { say(self, text, urgent); };
  callbacks.on_status = [self](const TaskSnapshot &t) { post_task(self, t); };
  callbacks.on_failure = [self](const TaskSnapshot &t, const openclaw::GatewayError &e) { warn_failure(self, t, e); };
  GST_INFO_OBJECT(self, "relaying to %s, agent %s, session %s", options.base_url.c_str(), options.agent_id.c_str(),
      settings.session_key.c_str());
  p->board = std::make_unique<TaskBoard>(p->net, p->gateway, settings, callbacks);

  /* Memory: read now (state change, not the streaming thread), given when the stream starts. */
  std::vector<std::string> sources;
  size_t tokens = 0;
  std::string error;
  p->memory_message = memory_context_message(p->memory_dir, p->memory_budget, &sources, &tokens, &error);
  p->memory_sent = false;
  if (!error.empty()) {
    GST_ELEMENT_WARNING(self, RESOURCE, READ, ("Could not read the agent's memory files."),
        ("%s", error.c_str()));
  }
  if (!p->memory_message.empty())
    GST_INFO_OBJECT(self, "memory context: %zu tokens from %zu files", tokens, sources.size());

  p->end_plan = CallEndPlan{};
  p->end_plan.memory_dir = p->memory_dir;
  p->end_plan.post_transcript = p->post_transcript;
  p->end_plan.hooks_token = p->hooks_token;
  p->end_plan.record.call_id = p->call_id;
  p->end_plan.record.caller = p->caller;
  p->end_plan.record.session_key = settings.session_key;
  p->end_plan.started.reset(g_date_time_new_now_local(), g_date_time_unref);
  p->end_plan.started_us = g_get_monotonic_time();
  p->call_ended = false;
  return TRUE;
}

/* The caller hung up (end of stream): cancel what runs, then record the call, without blocking the
 * streaming thread (the board does both on the network thread, in that order). */
static void hang_up(GstOpenClawRelay *self)
{
  Private *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->call_ended || !p->board)
    return;
  p->call_ended = true;
  CallEndPlan plan = p->end_plan;
  std::shared_ptr<openclaw::GatewayClient> gateway = p->gateway;
  std::shared_ptr<net::NetThread> net = p->net;
  p->board->hang_up("the call ended", [plan, gateway, net](std::vector<TaskSnapshot> tasks) {
    record_call_end(plan, tasks, gateway, net, nullptr);
  });
}

/* PAUSED→READY: the call is over for sure. Waits for the network thread. */
static void stop_call(GstOpenClawRelay *self)
{
  Private *p = self->priv;
  std::unique_ptr<TaskBoard> board;
  std::shared_ptr<openclaw::GatewayClient> gateway;
  CallEndPlan plan;
  bool record = false;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    board = std::move(p->board);
    gateway = std::move(p->gateway);
    plan = p->end_plan;
    record = !p->call_ended;
    p->call_ended = true;
  }
  if (!board)
    return;
  /* Outside the lock: the board's callbacks (network thread) take it. */
  board->close("the call ended");
  std::vector<TaskSnapshot> tasks = board->snapshot();
  if (record) {
    std::string error;
    record_call_end(plan, tasks, gateway, p->net, &error);
    if (!error.empty())
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Could not write the call to the agent's memory."),
          ("%s", error.c_str()));
  }
  std::lock_guard<std::mutex> lock(p->lock);
  p->last_tasks_json = tasks_json(tasks);
  p->memory_message.clear();
}

/* Watches the tool stream's events on the way through: stream start (the session is up: give the
 * memory context), end of stream and flush (the call is over: cancel). */
static GstPadProbeReturn sink_event_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstOpenClawRelay *self = GST_OPENCLAW_RELAY(data);
  Private *p = self->priv;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_STREAM_START: {
      std::string memory;
      {
        std::lock_guard<std::mutex> lock(p->lock);
        if (p->memory_sent || p->memory_message.empty())
          break;
        p->memory_sent = true;
        memory = p->memory_message;
      }
      /* "respond": FALSE asks realtimesink to only add the context (a contract extension it may
       * ignore; then the model answers the context, typically with a greeting). */
      GstStructure *s = gst_structure_new(CLAWVOICE_EVENT_INJECT, "text", G_TYPE_STRING, memory.c_str(),
          "role", G_TYPE_STRING, "system", "urgent", G_TYPE_BOOLEAN, FALSE, "respond", G_TYPE_BOOLEAN, FALSE,
          nullptr);
      if (!gst_pad_push_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s)))
        GST_WARNING_OBJECT(self, "the memory context was not taken upstream");
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      /* What was said, for the call's record in the agent's memory. */
      const GstStructure *s = gst_event_get_structure(event);
      if (!s || !gst_structure_has_name(s, CLAWVOICE_EVENT_TRANSCRIPT))
        break;
      const gchar *role = gst_structure_get_string(s, "role");
      const gchar *text = gst_structure_get_string(s, "text");
      if (!role || !text || !*text)
        break;
      std::lock_guard<std::mutex> lock(p->lock);
      auto &transcript = p->end_plan.record.transcript;
      if (transcript.size() < kMaxTranscriptLines)
        transcript.push_back({role, text});
      break;
    }
    case GST_EVENT_EOS:
      GST_INFO_OBJECT(self, "end of stream: the call is over");
      hang_up(self);
      break;
    case GST_EVENT_FLUSH_START: {
      std::lock_guard<std::mutex> lock(p->lock);
      if (p->board)
        p->board->hang_up("flushed");
      break;
    }
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

static GstStateChangeReturn gst_openclaw_relay_change_state(GstElement *element, GstStateChange transition)
{
  GstOpenClawRelay *self = GST_OPENCLAW_RELAY(element);
  Private *p = self->priv;
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      p->net = net::NetThread::acquire();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start_call(self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* Before the pads deactivate: a running task's last words may still go upstream. */
      stop_call(self);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_openclaw_relay_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    stop_call(self);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    p->net.reset();
  return ret;
}

/* ---- Properties ---- */

static void set_string(std::string *out, const GValue *value)
{
  const gchar *s = g_value_get_string(value);
  *out = s ? s : "";
}

static void gst_openclaw_relay_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  Private *p = GST_OPENCLAW_RELAY(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (id) {
    case PROP_URL: set_string(&p->url, value); break;
    case PROP_TOKEN: set_string(&p->token, value); break;
    case PROP_AGENT_ID: set_string(&p->agent_id, value); break;
    case PROP_TOOL_NAME: set_string(&p->tool_name, value); break;
    case PROP_TOOL_DESCRIPTION: set_string(&p->tool_description, value); break;
    case PROP_SESSION_MODE: p->session_mode = (SessionMode) g_value_get_enum(value); break;
    case PROP_SESSION_KEY: set_string(&p->session_key, value); break;
    case PROP_CALLER: set_string(&p->caller, value); break;
    case PROP_CALL_ID: set_string(&p->call_id, value); break;
    case PROP_MAIN_SESSION_KEY: set_string(&p->main_session_key, value); break;
    case PROP_ACK_TEXT: set_string(&p->ack_text, value); break;
    case PROP_PROGRESS_DELAY: p->progress_delay_ms = g_value_get_uint(value); break;
    case PROP_PROGRESS_TEXT: set_string(&p->progress_text, value); break;
    case PROP_TIMEOUT: p->timeout_ms = g_value_get_uint(value); break;
    case PROP_TIMEOUT_TEXT: set_string(&p->timeout_text, value); break;
    case PROP_URGENT: p->urgent = g_value_get_boolean(value); break;
    case PROP_MAX_TASKS: p->max_tasks = g_value_get_uint(value); break;
    case PROP_MEMORY_DIR: set_string(&p->memory_dir, value); break;
    case PROP_MEMORY_BUDGET: p->memory_budget = g_value_get_uint(value); break;
    case PROP_HOOKS_TOKEN: set_string(&p->hooks_token, value); break;
    case PROP_POST_TRANSCRIPT: p->post_transcript = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void gst_openclaw_relay_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  Private *p = GST_OPENCLAW_RELAY(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (id) {
    case PROP_URL: g_value_set_string(value, p->url.c_str()); break;
    /* Secrets: a mask when set, never the value. */
    case PROP_TOKEN: g_value_set_string(value, p->token.empty() ? nullptr : kMask); break;
    case PROP_AGENT_ID: g_value_set_string(value, p->agent_id.c_str()); break;
    case PROP_TOOL_NAME: g_value_set_string(value, p->tool_name.c_str()); break;
    case PROP_TOOL_DESCRIPTION: g_value_set_string(value, p->tool_description.c_str()); break;
    case PROP_SESSION_MODE: g_value_set_enum(value, (gint) p->session_mode); break;
    case PROP_SESSION_KEY: g_value_set_string(value, p->session_key.empty() ? nullptr : p->session_key.c_str()); break;
    case PROP_CALLER: g_value_set_string(value, p->caller.empty() ? nullptr : p->caller.c_str()); break;
    case PROP_CALL_ID: g_value_set_string(value, p->call_id.empty() ? nullptr : p->call_id.c_str()); break;
    case PROP_MAIN_SESSION_KEY:
      g_value_set_string(value, p->main_session_key.empty() ? nullptr : p->main_session_key.c_str());
      break;
    case PROP_ACK_TEXT: g_value_set_string(value, p->ack_text.c_str()); break;
    case PROP_PROGRESS_DELAY: g_value_set_uint(value, p->progress_delay_ms); break;
    case PROP_PROGRESS_TEXT: g_value_set_string(value, p->progress_text.c_str()); break;
    case PROP_TIMEOUT: g_value_set_uint(value, p->timeout_ms); break;
    case PROP_TIMEOUT_TEXT: g_value_set_string(value, p->timeout_text.c_str()); break;
    case PROP_URGENT: g_value_set_boolean(value, p->urgent); break;
    case PROP_MAX_TASKS: g_value_set_uint(value, p->max_tasks); break;
    case PROP_MEMORY_DIR: g_value_set_string(value, p->memory_dir.empty() ? nullptr : p->memory_dir.c_str()); break;
    case PROP_MEMORY_BUDGET: g_value_set_uint(value, p->memory_budget); break;
    case PROP_HOOKS_TOKEN: g_value_set_string(value, p->hooks_token.empty() ? nullptr : kMask); break;
    case PROP_POST_TRANSCRIPT: g_value_set_boolean(value, p->post_transcript); break;
    case PROP_TASKS:
      g_value_set_string(value, p->board ? tasks_json(p->board->snapshot()).c_str() : p->last_tasks_json.c_str());
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

/* ---- GObject ---- */

static void gst_openclaw_relay_init(GstOpenClawRelay *self)
{
  self->priv = new Private();
  GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(self), "sink");
  gst_pad_add_probe(sink, (GstPadProbeType) (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      sink_event_probe, self, nullptr);
  gst_object_unref(sink);
}

static void gst_openclaw_relay_finalize(GObject *object)
{
  GstOpenClawRelay *self = GST_OPENCLAW_RELAY(object);
  delete self->priv;
  G_OBJECT_CLASS(gst_openclaw_relay_parent_class)->finalize(object);
}

static void gst_openclaw_relay_class_init(GstOpenClawRelayClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstToolExecutorClass *executor_class = GST_TOOL_EXECUTOR_CLASS(klass);
  gobject_class->set_property = gst_openclaw_relay_set_property;
  gobject_class->get_property = gst_openclaw_relay_get_property;
  gobject_class->finalize = gst_openclaw_relay_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_openclaw_relay_change_state);
  executor_class->get_tools = GST_DEBUG_FUNCPTR(gst_openclaw_relay_get_tools);
  executor_class->handle_call = GST_DEBUG_FUNCPTR(gst_openclaw_relay_handle_call);

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_URL, g_param_spec_string("url", "Gateway URL",
      "Base URL of the OpenClaw gateway (POST <url>/v1/chat/completions and <url>/hooks/agent)", kDefaultUrl, rw));
  g_object_class_install_property(gobject_class, PROP_TOKEN, g_param_spec_string("token", "Gateway token",
      "Bearer token or password of the gateway (default: the OPENCLAW_GATEWAY_TOKEN environment variable). "
      "Reading it back gives a mask, and it is never logged", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_AGENT_ID, g_param_spec_string("agent-id", "Agent id",
      "The OpenClaw agent to ask (header x-openclaw-agent-id)", "main", rw));
  g_object_class_install_property(gobject_class, PROP_TOOL_NAME, g_param_spec_string("tool-name", "Tool name",
      "Name of the tool the voice model calls (e.g. ask_openclaw)", kDefaultToolName, rw));
  g_object_class_install_property(gobject_class, PROP_TOOL_DESCRIPTION, g_param_spec_string("tool-description",
      "Tool description", "What the voice model is told the tool is for", kDefaultToolDescription, rw));
  g_object_class_install_property(gobject_class, PROP_SESSION_MODE, g_param_spec_enum("session-mode",
      "Session mode", "Which agent session the calls talk to: the user's main session, one per caller, or "
      "one per call (session-key overrides)", GST_TYPE_OPENCLAW_RELAY_SESSION_MODE, (gint) SessionMode::Caller, rw));
  g_object_class_install_property(gobject_class, PROP_SESSION_KEY, g_param_spec_string("session-key",
      "Session key", "Explicit x-openclaw-session-key (overrides session-mode; subagent:, cron: and acp: keys "
      "are refused)", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_CALLER, g_param_spec_string("caller", "Caller",
      "Who is calling (phone number, user id): session-mode=caller uses agent:<agent-id>:voice:dm:<caller>",
      nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_CALL_ID, g_param_spec_string("call-id", "Call id",
      "This call's id (session-mode=call uses agent:<agent-id>:voice:call:<call-id>; a random one if unset)",
      nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_MAIN_SESSION_KEY, g_param_spec_string("main-session-key",
      "Main session key", "The user's main session for session-mode=main (default agent:<agent-id>:main)",
      nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_ACK_TEXT, g_param_spec_string("ack-text",
      "Acknowledgement", "The immediate tool result (usually JSON) given while the agent works",
      kDefaultAckText, rw));
  g_object_class_install_property(gobject_class, PROP_PROGRESS_DELAY, g_param_spec_uint("progress-delay",
      "Progress delay", "Speak a progress cue when a task has no answer after this long (ms, 0 = never)",
      0, 3600000, 8000, rw));
  g_object_class_install_property(gobject_class, PROP_PROGRESS_TEXT, g_param_spec_string("progress-text",
      "Progress text", "What the progress cue says", kDefaultProgressText, rw));
  g_object_class_install_property(gobject_class, PROP_TIMEOUT, g_param_spec_uint("timeout", "Timeout",
      "Cancel a task with no answer after this long and apologise (ms, 0 = never)", 0, 3600000, 60000, rw));
  g_object_class_install_property(gobject_class, PROP_TIMEOUT_TEXT, g_param_spec_string("timeout-text",
      "Timeout text", "The apology spoken when a task times out", kDefaultTimeoutText, rw));
  g_object_class_install_property(gobject_class, PROP_URGENT, g_param_spec_boolean("urgent", "Urgent",
      "Say answers at once, even over the caller or a reply in progress (default: wait for the turn to end)",
      FALSE, rw));
  g_object_class_install_property(gobject_class, PROP_MAX_TASKS, g_param_spec_uint("max-tasks", "Max tasks",
      "Tasks running at once; beyond, the model is told to wait for the answers first", 1, 64, 4, rw));
  g_object_class_install_property(gobject_class, PROP_MEMORY_DIR, g_param_spec_string("memory-dir",
      "Memory directory", "The agent's workspace with MEMORY.md and memory/YYYY-MM-DD.md: context at call start, "
      "the call appended to the day's file at its end (NULL: no memory)", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_MEMORY_BUDGET, g_param_spec_uint("memory-budget",
      "Memory budget", "Tokens of memory context at call start (estimated at 4 characters each; 0 = none)",
      0, 100000, 2000, rw));
  g_object_class_install_property(gobject_class, PROP_HOOKS_TOKEN, g_param_spec_string("hooks-token",
      "Hooks token", "Bearer for POST /hooks/agent (the gateway's hooks.token; masked when read)", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_POST_TRANSCRIPT, g_param_spec_boolean("post-transcript",
      "Post transcript", "At call end, hand the call's requests and answers to the agent with POST /hooks/agent",
      FALSE, rw));
  g_object_class_install_property(gobject_class, PROP_TASKS, g_param_spec_string("tasks", "Tasks",
      "JSON array of this call's tasks: id, call-id, status (pending, running, done, failed, cancelled, "
      "timeout), question, elapsed-ms, answer or error", "[]",
      (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(element_class, "OpenClaw agent relay", "Filter/Network",
      "Serves the voice model's send_to_openclaw tool by asking the OpenClaw agent (gateway chat completions, "
      "streamed), and has its answers, progress cues and failures spoken without dead air",
      "clawvoice developers");
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=question.wav ! wavparse ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=24000,channels=1 ! identity sync=true ! realtimesink name=rt "
      "url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! wavenc ! filesink location=reply.wav  "
      "rt.tools ! openclawrelay url=http://127.0.0.1:8765 token=demo-token caller=+15551234567 ! httptools "
      "tools-file=calendar-tools.json");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");
  gst_type_mark_as_plugin_api(GST_TYPE_OPENCLAW_RELAY_SESSION_MODE, (GstPluginAPIFlags) 0);
}
