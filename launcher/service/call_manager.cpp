#include "call_manager.h"

#include <algorithm>

#include "json_log.h"
#include "pipeline_elements.h"

namespace clawvoice::launcher {

static constexpr size_t kRecentCalls = 200;   /* calls kept after they end, for GET /calls/{id} */

const char *call_state_name(CallState state)
{
  switch (state) {
    case CallState::Pending: return "pending";
    case CallState::Active: return "active";
    case CallState::Ended: return "ended";
    case CallState::Failed: return "failed";
    case CallState::Expired: return "expired";
  }
  return "unknown";
}

struct CallManager::Call {
  std::string id;
  std::string route;
  std::string caller;
  std::map<std::string, std::string> params;
  CallState state = CallState::Pending;
  std::string end_reason;
  std::string started_at;
  gint64 created_us = 0;   /* monotonic */
  gint64 ended_us = 0;
  bool finishing = false;  /* end() was called: teardown is queued on the main context */
  GstElement *pipeline = nullptr;
  GSource *bus_source = nullptr;
  GSource *ttl_source = nullptr;
  CallCounters counters;
  gint64 speech_stopped_us = 0;
  std::vector<AgentTask> tasks;
};

static std::string iso_now()
{
  GDateTime *now = g_date_time_new_now_utc();
  gchar *text = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  std::string out(text);
  g_free(text);
  g_date_time_unref(now);
  return out;
}

static std::string new_call_id()
{
  gchar *uuid = g_uuid_string_random();
  std::string id = "call_";
  for (const gchar *c = uuid; *c; c++)
    if (*c != '-')
      id += *c;
  g_free(uuid);
  return id.substr(0, 5 + 24);
}

/* Calls @fn on @context (inline if we are its owner). */
static void invoke_on(GMainContext *context, std::function<void()> fn)
{
  auto *heap = new std::function<void()>(std::move(fn));
  g_main_context_invoke_full(context, G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()> *>(data))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
}

static void for_each_realtimesink(GstBin *bin, const std::function<void(GstElement *)> &fn)
{
  for_each_element_of(bin, "realtimesink", fn);
}

static CallCounters read_counters(GstElement *pipeline)
{
  CallCounters counters;
  for_each_realtimesink(GST_BIN(pipeline), [&counters](GstElement *rt) {
    GstStructure *stats = nullptr;
    g_object_get(rt, "stats", &stats, nullptr);
    if (!stats)
      return;
    guint64 v = 0;
    if (gst_structure_get_uint64(stats, "audio-frames-in", &v)) counters.audio_frames_in += v;
    if (gst_structure_get_uint64(stats, "periods-out", &v)) counters.audio_frames_out += v;
    if (gst_structure_get_uint64(stats, "audio-frames-dropped", &v)) counters.audio_frames_dropped += v;
    gdouble cost = 0;
    if (gst_structure_get_double(stats, "cost", &cost)) counters.cost_usd += cost;
    CallCounters delay;
    if (const GValue *histogram = gst_structure_get_value(stats, "input-delay-histogram")) {
      for (guint i = 0; i < gst_value_array_get_size(histogram); i++)
        delay.input_delay_counts.push_back(g_value_get_uint64(gst_value_array_get_value(histogram, i)));
    }
    if (gst_structure_get_uint64(stats, "input-delay-sum-us", &v)) delay.input_delay_sum_s = (double) v / 1e6;
    counters += delay;
    gst_structure_free(stats);
  });
  return counters;
}

/* Brings a pipeline to NULL and drops it: on a teardown thread, never the main context. */
static void stop_pipeline(GstElement *pipeline)
{
  /* webrtcbin (1.22) keeps its transport bins' state locked: a stream pushing into a transport
   * whose sink waits for preroll (a media path that never came up, or went away) holds the
   * stream lock while the pipeline's PAUSED→READY waits for it — a deadlock. A flush-start into
   * webrtcbin's sink pads releases that push first. */
  for_each_element_of(GST_BIN(pipeline), "webrtcbin", [](GstElement *webrtc) {
    GstIterator *pads = gst_element_iterate_sink_pads(webrtc);
    gst_iterator_foreach(pads, [](const GValue *item, gpointer) {
      gst_pad_send_event(GST_PAD(g_value_get_object(item)), gst_event_new_flush_start());
    }, nullptr);
    gst_iterator_free(pads);
  });
  gst_element_set_state(pipeline, GST_STATE_NULL);   /* joins the streaming threads */
  gst_object_unref(pipeline);
}

CallManager::CallManager(const Config &config, RealtimeEndpoint endpoint, AgentEndpoint agent, Metrics &metrics,
                         GMainContext *main_context)
    : config_(config), endpoint_(std::move(endpoint)), agent_(std::move(agent)), metrics_(metrics),
      main_context_(main_context)
{
  /* Four threads: teardowns are short and mostly waiting; more than four at once queue. */
  teardown_pool_ = g_thread_pool_new(&CallManager::run_teardown, nullptr, 4, FALSE, nullptr);
  /* Launch files are read once: a call never waits for the disk, and a file edited while the
   * launcher runs cannot break calls half-way (restart to pick it up, after --check). */
  for (const auto &[name, route] : config_.routes) {
    if (!route.enabled)
      continue;
    gchar *text = nullptr;
    if (g_file_get_contents(route.launch_path.c_str(), &text, nullptr, nullptr)) {
      launch_descriptions_[name] = strip_launch_comments(text);
      g_free(text);
    }
  }
}

CallManager::~CallManager()
{
  /* Teardowns in flight finish first; what they would post to the main context is dropped. */
  *alive_ = false;
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard<std::mutex> lock(lock_);
    for (auto &[id, call] : live_)
      calls.push_back(call);
  }
  for (auto &call : calls) {
    call->finishing = true;
    GstElement *pipeline = call->pipeline;
    call->pipeline = nullptr;
    for (GSource *source : {call->ttl_source, call->bus_source}) {
      if (source) {
        g_source_destroy(source);
        g_source_unref(source);
      }
    }
    call->ttl_source = call->bus_source = nullptr;
    if (pipeline)
      stop_pipeline(pipeline);
  }
  g_thread_pool_free(teardown_pool_, FALSE, TRUE);
}

std::string CallManager::create(const std::string &route, const std::string &caller,
                                std::map<std::string, std::string> params, std::string *refusal)
{
  auto call = std::make_shared<Call>();
  {
    std::lock_guard<std::mutex> lock(lock_);
    if (!accepting_) {
      *refusal = "shutting-down";
    } else if (live_.size() >= config_.max_concurrent_calls) {
      *refusal = "busy";
    } else {
      call->id = new_call_id();
      call->route = route;
      call->caller = caller;
      call->params = std::move(params);
      call->started_at = iso_now();
      call->created_us = g_get_monotonic_time();
      live_[call->id] = call;
    }
  }
  if (call->id.empty()) {
    metrics_.call_refused(route, *refusal);
    log_event(LogLevel::Warning, "call.refused", {{"route", route}, {"reason", *refusal}});
    return "";
  }
  /* The time-to-live counts from the first contact: a call that never gets media expires too. */
  std::string id = call->id;
  GSource *ttl = g_timeout_source_new_seconds(config_.call_ttl_seconds);
  auto *hook = new std::pair<CallManager *, std::string>(this, id);
  g_source_set_callback(ttl,
      [](gpointer data) -> gboolean {
        auto *h = static_cast<std::pair<CallManager *, std::string> *>(data);
        h->first->end(h->second, CallState::Expired, "time-to-live reached");
        return G_SOURCE_REMOVE;
      },
      hook, [](gpointer data) { delete static_cast<std::pair<CallManager *, std::string> *>(data); });
  {
    std::lock_guard<std::mutex> lock(lock_);
    call->ttl_source = ttl;
  }
  g_source_attach(ttl, main_context_);
  log_event(LogLevel::Info, "call.created", {{"call_id", id}, {"route", route}, {"caller", caller}});
  return id;
}

/* A call's bus sync handler, on the thread that posts (a streaming or network thread): only a
 * cheap look. What on_bus_message() and the routes use goes on to the main context; the rest (state
 * changes of every element, stream and latency notices, partial transcripts nobody shows) is
 * dropped here, so that two hundred calls do not wake the main thread thousands of times a second
 * for nothing. @data: whether the call's route wants partial transcripts. */
static GstBusSyncReply filter_bus_message(GstBus *, GstMessage *message, gpointer data)
{
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING:
      return GST_BUS_PASS;
    case GST_MESSAGE_ELEMENT: {
      if (GPOINTER_TO_INT(data))
        return GST_BUS_PASS;
      const GstStructure *s = gst_message_get_structure(message);
      gboolean final = FALSE;
      if (s && gst_structure_has_name(s, "clawvoice-transcript") &&
          !(gst_structure_get_boolean(s, "final", &final) && final))
        return GST_BUS_DROP;
      return GST_BUS_PASS;
    }
    default:
      return GST_BUS_DROP;
  }
}

bool CallManager::start_pipeline(const std::string &id, const Hook &prepare, std::string *error)
{
  std::shared_ptr<Call> call;
  {
    std::lock_guard<std::mutex> lock(lock_);
    auto it = live_.find(id);
    if (it == live_.end() || it->second->finishing || it->second->pipeline) {
      *error = "the call is not pending";
      return false;
    }
    call = it->second;
  }
  gint64 t0 = g_get_monotonic_time();
  auto description = launch_descriptions_.find(call->route);
  GstElement *pipeline = nullptr;
  if (description == launch_descriptions_.end()) {
    *error = "route " + call->route + " has no readable launch file";
  } else {
    CallInfo info{call->id, call->caller, call->route, call->params};
    pipeline = parse_launch_description(description->second, property_overrides_for_call(config_, info), error);
  }
  if (pipeline) {
    gst_object_set_name(GST_OBJECT(pipeline), call->id.c_str());
    /* The backend goes to every realtimesink the config did not point elsewhere explicitly. */
    ElementProperties configured = config_.properties_for(call->route);
    for_each_realtimesink(GST_BIN(pipeline), [&](GstElement *rt) {
      auto props = configured.find(GST_OBJECT_NAME(rt));
      bool has_url = props != configured.end() && props->second.count("url");
      bool has_key = props != configured.end() && props->second.count("api-key");
      if (!has_url)
        g_object_set(rt, "url", endpoint_.url.c_str(), nullptr);
      if (!has_key && !endpoint_.api_key.empty())
        g_object_set(rt, "api-key", endpoint_.api_key.c_str(), nullptr);
    });
    /* The same for the agent relay, plus who is calling: its session key may depend on them. */
    for_each_element_of(GST_BIN(pipeline), "openclawrelay", [&](GstElement *relay) {
      auto props = configured.find(GST_OBJECT_NAME(relay));
      auto configured_here = [&](const char *name) {
        return props != configured.end() && props->second.count(name);
      };
      if (!configured_here("url"))
        g_object_set(relay, "url", agent_.url.c_str(), nullptr);
      if (!configured_here("token") && !agent_.token.empty())
        g_object_set(relay, "token", agent_.token.c_str(), nullptr);
      if (!configured_here("agent-id"))
        g_object_set(relay, "agent-id", agent_.agent_id.c_str(), nullptr);
      if (!configured_here("call-id"))
        g_object_set(relay, "call-id", call->id.c_str(), nullptr);
      if (!configured_here("caller"))
        g_object_set(relay, "caller", call->caller.c_str(), nullptr);
    });
    if (prepare && !prepare(GST_BIN(pipeline), error)) {
      gst_object_unref(pipeline);
      pipeline = nullptr;
    }
  }
  if (!pipeline) {
    log_event(LogLevel::Error, "call.pipeline_failed", {{"call_id", id}, {"route", call->route}, {"error", *error}});
    end(id, CallState::Failed, "pipeline: " + *error);
    return false;
  }

  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, filter_bus_message,
                           GINT_TO_POINTER(partial_transcript_routes_.count(call->route) ? 1 : 0), nullptr);
  GSource *watch = gst_bus_create_watch(bus);
  gst_object_unref(bus);
  auto *hook = new std::pair<CallManager *, std::string>(this, id);
  g_source_set_callback(watch, (GSourceFunc) (void (*)(void)) (+[](GstBus *, GstMessage *message, gpointer data) -> gboolean {
        auto *h = static_cast<std::pair<CallManager *, std::string> *>(data);
        h->first->on_bus_message(h->second, message);
        return G_SOURCE_CONTINUE;
      }),
      hook, [](gpointer data) { delete static_cast<std::pair<CallManager *, std::string> *>(data); });

  bool still_wanted;
  {
    std::lock_guard<std::mutex> lock(lock_);
    still_wanted = !call->finishing;
    call->pipeline = pipeline;
    call->bus_source = watch;
    if (still_wanted)
      call->state = CallState::Active;
  }
  g_source_attach(watch, main_context_);
  if (!still_wanted) {
    invoke_on(main_context_, [this, call]() { finish_on_main(call); });
    *error = "the call ended while its pipeline was being built";
    return false;
  }
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "the pipeline refused to play";
    log_event(LogLevel::Error, "call.pipeline_failed", {{"call_id", id}, {"route", call->route}, {"error", *error}});
    end(id, CallState::Failed, "pipeline: " + *error);
    return false;
  }
  double setup_s = (g_get_monotonic_time() - t0) / 1e6;
  metrics_.call_started(call->route);
  metrics_.observe_setup_seconds(setup_s);
  log_event(LogLevel::Info, "call.active", {{"call_id", id}, {"route", call->route}, {"setup_ms", setup_s * 1000.0}});
  return true;
}

bool CallManager::end(const std::string &id, CallState final_state, const std::string &reason)
{
  std::shared_ptr<Call> call;
  {
    std::lock_guard<std::mutex> lock(lock_);
    auto it = live_.find(id);
    if (it == live_.end() || it->second->finishing)
      return false;
    call = it->second;
    call->finishing = true;
    call->state = final_state;
    call->end_reason = reason;
    call->ended_us = g_get_monotonic_time();
  }
  invoke_on(main_context_, [this, call]() { finish_on_main(call); });
  return true;
}

void CallManager::finish_on_main(std::shared_ptr<Call> call)
{
  GstElement *pipeline;
  GSource *bus_source, *ttl_source;
  {
    std::lock_guard<std::mutex> lock(lock_);
    pipeline = call->pipeline;
    bus_source = call->bus_source;
    ttl_source = call->ttl_source;
    call->pipeline = nullptr;
    call->bus_source = call->ttl_source = nullptr;
  }
  for (GSource *source : {ttl_source, bus_source}) {
    if (source) {
      g_source_destroy(source);
      g_source_unref(source);
    }
  }
  gint64 teardown_start_us = g_get_monotonic_time();
  if (!pipeline) {
    complete_on_main(call, teardown_start_us);
    return;
  }
  {
    CallCounters counters = read_counters(pipeline);
    std::lock_guard<std::mutex> lock(lock_);
    call->counters = counters;
  }
  /* Bringing a pipeline down joins its streaming threads and, for webrtcbin, its ICE and DTLS
   * agents: tens to hundreds of milliseconds, and a stuck element would hold it for ever. Done here
   * it would stall every other call's HTTP, signalling and bus messages, so it runs on a teardown
   * thread; the call is over (hooks, logs, /calls) once it is back. */
  auto *job = new TeardownJob{pipeline, [this, call, teardown_start_us, alive = alive_]() {
    invoke_on(main_context_, [this, call, teardown_start_us, alive]() {
      if (*alive)
        complete_on_main(call, teardown_start_us);
    });
  }};
  GError *error = nullptr;
  if (!g_thread_pool_push(teardown_pool_, job, &error)) {
    /* No thread to be had: do it here rather than leave the call half-ended. */
    log_event(LogLevel::Warning, "call.teardown_inline", {{"call_id", call->id}, {"error", error->message}});
    g_clear_error(&error);
    stop_pipeline(job->pipeline);
    delete job;
    complete_on_main(call, teardown_start_us);
  }
}

void CallManager::run_teardown(gpointer data, gpointer)
{
  auto *job = static_cast<TeardownJob *>(data);
  stop_pipeline(job->pipeline);
  job->done();
  delete job;
}

void CallManager::complete_on_main(std::shared_ptr<Call> call, gint64 teardown_start_us)
{
  CallSnapshot snap;
  std::function<void()> done;
  {
    std::lock_guard<std::mutex> lock(lock_);
    if (!call->ended_us)
      call->ended_us = g_get_monotonic_time();
    snap = make_snapshot(*call);
    live_.erase(call->id);
    recent_.push_back(snap);
    if (recent_.size() > kRecentCalls)
      recent_.erase(recent_.begin());
    if (!accepting_ && live_.empty() && shutdown_done_)
      done = std::move(shutdown_done_);
  }
  metrics_.call_ended(snap.route, call_state_name(snap.state), snap.counters);
  log_event(snap.state == CallState::Ended ? LogLevel::Info : LogLevel::Warning, "call.ended",
      {{"call_id", snap.id}, {"route", snap.route}, {"state", call_state_name(snap.state)},
       {"reason", snap.end_reason}, {"duration_s", snap.duration_s}, {"cost_usd", snap.cost_usd},
       {"frames_in", (long long) snap.counters.audio_frames_in},
       {"frames_out", (long long) snap.counters.audio_frames_out},
       {"frames_dropped", (long long) snap.counters.audio_frames_dropped},
       {"teardown_ms", (g_get_monotonic_time() - teardown_start_us) / 1000.0}});
  if (end_hook_)
    end_hook_(snap);
  if (done)
    done();
}

void CallManager::on_bus_message(const std::string &id, GstMessage *message)
{
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      end(id, CallState::Ended, "completed");
      break;
    case GST_MESSAGE_ERROR: {
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error(message, &err, &debug);
      log_event(LogLevel::Error, "call.error", {{"call_id", id}, {"source", GST_OBJECT_NAME(GST_MESSAGE_SRC(message))},
          {"error", err->message}, {"debug", debug ? debug : ""}});
      end(id, CallState::Failed, err->message);
      g_clear_error(&err);
      g_free(debug);
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError *err = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_warning(message, &err, &debug);
      log_event(LogLevel::Warning, "call.warning", {{"call_id", id}, {"source", GST_OBJECT_NAME(GST_MESSAGE_SRC(message))},
          {"warning", err->message}, {"debug", debug ? debug : ""}});
      g_clear_error(&err);
      g_free(debug);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure(message);
      const gchar *name = gst_structure_get_name(s);
      if (g_str_equal(name, "clawvoice-usage")) {
        gdouble total = 0;
        if (gst_structure_get_double(s, "total-cost", &total)) {
          std::lock_guard<std::mutex> lock(lock_);
          auto it = live_.find(id);
          if (it != live_.end())
            it->second->counters.cost_usd = total;
        }
      } else if (g_str_equal(name, "clawvoice-turn")) {
        const gchar *event = gst_structure_get_string(s, "event");
        gint64 now = g_get_monotonic_time();
        double latency = -1;
        {
          std::lock_guard<std::mutex> lock(lock_);
          auto it = live_.find(id);
          if (it != live_.end() && event) {
            if (g_str_equal(event, "speech-stopped")) {
              it->second->speech_stopped_us = now;
            } else if (g_str_equal(event, "response-started") && it->second->speech_stopped_us) {
              latency = (now - it->second->speech_stopped_us) / 1e6;
              it->second->speech_stopped_us = 0;
            }
          }
        }
        if (latency >= 0)
          metrics_.observe_response_seconds(latency);
      } else if (g_str_equal(name, "clawvoice-task")) {
        AgentTask task;
        gst_structure_get_uint(s, "task-id", &task.id);
        const gchar *status = gst_structure_get_string(s, "status");
        const gchar *question = gst_structure_get_string(s, "question");
        task.status = status ? status : "";
        task.question = question ? question : "";
        gst_structure_get_int64(s, "elapsed-ms", &task.elapsed_ms);
        {
          std::lock_guard<std::mutex> lock(lock_);
          auto it = live_.find(id);
          if (it != live_.end()) {
            auto &tasks = it->second->tasks;
            auto t = std::find_if(tasks.begin(), tasks.end(), [&](const AgentTask &x) { return x.id == task.id; });
            if (t == tasks.end())
              tasks.push_back(task);
            else
              *t = task;
          }
        }
        const gchar *error = gst_structure_get_string(s, "error");
        log_event(LogLevel::Info, "call.task", {{"call_id", id}, {"task_id", (long long) task.id},
            {"status", task.status}, {"elapsed_ms", (long long) task.elapsed_ms}, {"error", error ? error : ""}});
      } else if (g_str_equal(name, "clawvoice-transcript")) {
        gboolean final = FALSE;
        gst_structure_get_boolean(s, "final", &final);
        if (final)
          log_event(LogLevel::Debug, "call.transcript", {{"call_id", id},
              {"role", gst_structure_get_string(s, "role")}, {"text", gst_structure_get_string(s, "text")}});
      }
      if (message_hook_)
        message_hook_(id, message);
      break;
    }
    default:
      break;
  }
}

void CallManager::set_param(const std::string &id, const std::string &key, const std::string &value)
{
  std::lock_guard<std::mutex> lock(lock_);
  auto it = live_.find(id);
  if (it != live_.end())
    it->second->params[key] = value;
}

std::string CallManager::find_by_param(const std::string &key, const std::string &value) const
{
  std::lock_guard<std::mutex> lock(lock_);
  for (const auto &[id, call] : live_) {
    auto p = call->params.find(key);
    if (p != call->params.end() && p->second == value)
      return id;
  }
  return "";
}

CallSnapshot CallManager::make_snapshot(const Call &call) const
{
  CallSnapshot s;
  s.id = call.id;
  s.route = call.route;
  s.caller = call.caller;
  s.state = call.state;
  s.end_reason = call.end_reason;
  s.started_at = call.started_at;
  gint64 end = call.ended_us ? call.ended_us : g_get_monotonic_time();
  s.duration_s = (end - call.created_us) / 1e6;
  s.cost_usd = call.counters.cost_usd;
  s.params = call.params;
  s.counters = call.counters;
  s.tasks = call.tasks;
  return s;
}

std::vector<CallSnapshot> CallManager::live_calls() const
{
  std::lock_guard<std::mutex> lock(lock_);
  std::vector<CallSnapshot> out;
  for (const auto &[id, call] : live_)
    out.push_back(make_snapshot(*call));
  return out;
}

bool CallManager::snapshot(const std::string &id, CallSnapshot *out) const
{
  std::lock_guard<std::mutex> lock(lock_);
  auto it = live_.find(id);
  if (it != live_.end()) {
    *out = make_snapshot(*it->second);
    return true;
  }
  for (auto r = recent_.rbegin(); r != recent_.rend(); ++r) {
    if (r->id == id) {
      *out = *r;
      return true;
    }
  }
  return false;
}

std::map<std::string, int> CallManager::count_by_state() const
{
  std::lock_guard<std::mutex> lock(lock_);
  std::map<std::string, int> counts;
  for (const auto &[id, call] : live_)
    counts[call_state_name(call->state)]++;
  return counts;
}

CallCounters CallManager::live_counters() const
{
  std::vector<GstElement *> pipelines;
  {
    std::lock_guard<std::mutex> lock(lock_);
    for (const auto &[id, call] : live_)
      if (call->pipeline)
        pipelines.push_back(GST_ELEMENT(gst_object_ref(call->pipeline)));
  }
  CallCounters total;
  for (GstElement *pipeline : pipelines) {
    total += read_counters(pipeline);
    gst_object_unref(pipeline);
  }
  return total;
}

size_t CallManager::live_count() const
{
  std::lock_guard<std::mutex> lock(lock_);
  return live_.size();
}

void CallManager::shutdown(std::function<void()> done)
{
  std::vector<std::string> ids;
  bool none;
  {
    std::lock_guard<std::mutex> lock(lock_);
    accepting_ = false;
    for (const auto &[id, call] : live_)
      ids.push_back(id);
    none = live_.empty();
    if (!none)
      shutdown_done_ = std::move(done);
  }
  log_event(LogLevel::Info, "launcher.stopping", {{"calls", (long long) ids.size()}});
  if (none) {
    if (done)
      invoke_on(main_context_, done);
    return;
  }
  for (const std::string &id : ids)
    end(id, CallState::Ended, "launcher shutting down");
}

}  // namespace clawvoice::launcher
