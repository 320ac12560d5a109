#include "sim_response.h"

#include "sim_events.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::sim {

using json::ObjectPtr;

/* Text tokens are about four characters each; audio is about 20 tokens per second of the
 * assistant's speech (10 per second of the caller's). */
static int64_t text_tokens(size_t chars)
{
  return (int64_t) ((chars + 3) / 4);
}

static std::vector<std::string> split_words(const std::string &text)
{
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t space = text.find(' ', start);
    size_t end = space == std::string::npos ? text.size() : space + 1;
    words.push_back(text.substr(start, end - start));
    start = end;
  }
  return words;
}

SimResponse::SimResponse(ResponseHost &host, SpeechSynthesizer &synth, ResponsePlan plan)
    : host_(host), synth_(synth), plan_(std::move(plan)), id_(new_id("resp_")),
      output_(json_array_new())
{
}

SimResponse::~SimResponse()
{
  abort();
  g_clear_object(&cancellable_);
}

void SimResponse::start()
{
  ObjectPtr created = make_event("response.created");
  json_object_set_object_member(created.get(), "response",
                                response_json("in_progress", nullptr).release());
  host_.emit(std::move(created));
  if (plan_.reply.kind == Reply::Kind::Speak) {
    words_ = split_words(plan_.reply.text);
    if (!plan_.text_only) {
      cancellable_ = g_cancellable_new();
      SynthRequest request{plan_.reply.text, plan_.voice, plan_.speed, plan_.format.rate()};
      synth_.synthesize_async(std::move(request), cancellable_,
                              [this](std::vector<int16_t> pcm) { on_synthesised(std::move(pcm)); });
    }
  }
  audio_ready_ = !cancellable_;
  schedule(plan_.response_delay_ms);
}

void SimResponse::on_synthesised(std::vector<int16_t> pcm)
{
  if (stage_ != Stage::Thinking)
    return;
  if (pcm.empty()) {
    clear_timer();
    finish("failed", nullptr);
    return;
  }
  pcm_ = std::move(pcm);
  audio_ready_ = true;
  maybe_begin();
}

void SimResponse::maybe_begin()
{
  if (stage_ != Stage::Thinking || !delay_elapsed_ || !audio_ready_)
    return;
  switch (plan_.reply.kind) {
    case Reply::Kind::Speak:
      begin_message();
      break;
    case Reply::Kind::CallTool:
      call_tool();
      break;
    case Reply::Kind::Nothing:
      finish("completed", nullptr);
      break;
  }
}

/* {"type":…, "response_id":…, "item_id":…, "output_index":0[, "content_index":0]} */
ObjectPtr SimResponse::item_event(const char *type, bool with_content_index) const
{
  ObjectPtr e = make_event(type);
  json_object_set_string_member(e.get(), "response_id", id_.c_str());
  json_object_set_string_member(e.get(), "item_id", item_.id.c_str());
  json_object_set_int_member(e.get(), "output_index", 0);
  if (with_content_index)
    json_object_set_int_member(e.get(), "content_index", 0);
  return e;
}

static ObjectPtr output_item_event(const char *type, const std::string &response_id,
                                   JsonObject *item)
{
  ObjectPtr e = make_event(type);
  json_object_set_string_member(e.get(), "response_id", response_id.c_str());
  json_object_set_int_member(e.get(), "output_index", 0);
  json_object_set_object_member(e.get(), "item", json::copy_object(item).release());
  return e;
}

/* The content part as content_part.added / .done show it ("audio" / "text"). */
static ObjectPtr part_json(bool text_only, const std::string &text)
{
  ObjectPtr part(json_object_new());
  json_object_set_string_member(part.get(), "type", text_only ? "text" : "audio");
  json_object_set_string_member(part.get(), text_only ? "text" : "transcript", text.c_str());
  return part;
}

void SimResponse::begin_message()
{
  stage_ = Stage::Streaming;
  const bool text = plan_.text_only;
  item_.id = new_id("item_");
  item_.type = "message";
  item_.role = "assistant";
  item_.has_audio = !text;
  item_.json = json::parse_object(R"({"object":"realtime.item","type":"message",
      "status":"in_progress","role":"assistant","content":[]})");
  json_object_set_string_member(item_.json.get(), "id", item_.id.c_str());
  host_.emit(output_item_event("response.output_item.added", id_, item_.json.get()));
  host_.output_item_added(item_, plan_.in_conversation);

  ObjectPtr part_added = item_event("response.content_part.added", true);
  json_object_set_object_member(part_added.get(), "part", part_json(text, "").release());
  host_.emit(std::move(part_added));
  content_started_ = true;
  JsonObject *content = json_object_new();
  json_object_set_string_member(content, "type", text ? "output_text" : "output_audio");
  json_array_add_object_element(json::get_array(item_.json.get(), "content"), content);

  const size_t chunk = plan_.format.rate() * plan_.delta_ms / 1000;
  chunks_total_ = text ? (words_.size() + 3) / 4 : (pcm_.size() + chunk - 1) / chunk;
  double interval = plan_.delta_ms / std::max(0.01, plan_.burst_speed);
  schedule((unsigned) std::max(1.0, interval));
  stream_tick();
}

void SimResponse::send_transcript_up_to(size_t words)
{
  std::string delta;
  for (; words_sent_ < std::min(words, words_.size()); words_sent_++)
    delta += words_[words_sent_];
  if (delta.empty())
    return;
  const char *type = plan_.text_only ? "response.output_text.delta"
                                     : "response.output_audio_transcript.delta";
  ObjectPtr e = item_event(type, true);
  json_object_set_string_member(e.get(), "delta", delta.c_str());
  host_.emit(std::move(e));
}

void SimResponse::stream_tick()
{
  if (stage_ != Stage::Streaming)
    return;
  const size_t i = chunks_sent_;
  if (plan_.text_only) {
    send_transcript_up_to(4 * (i + 1));
  } else if (chunks_total_ > 0) {
    send_transcript_up_to((words_.size() * (i + 1) + chunks_total_ - 1) / chunks_total_);
    const size_t chunk = plan_.format.rate() * plan_.delta_ms / 1000;
    const size_t begin = i * chunk, end = std::min(pcm_.size(), begin + chunk);
    if (plan_.send_audio) {
      std::vector<uint8_t> bytes = encode_audio(plan_.format, pcm_.data() + begin, end - begin);
      ObjectPtr e = item_event("response.output_audio.delta", true);
      json_object_set_string_member(e.get(), "delta",
                                    encode_base64(bytes.data(), bytes.size()).c_str());
      host_.emit(std::move(e));
    }
    const double ms = (end - begin) * 1000.0 / plan_.format.rate();
    audio_sent_ms_ += ms;
    item_.audio_ms = audio_sent_ms_;
    if (!host_.audio_sent(item_.id, audio_sent_ms_, ms)) {
      abort();
      return;
    }
  }
  chunks_sent_++;
  if (chunks_sent_ >= chunks_total_) {
    send_transcript_up_to(words_.size());
    end_message("completed");
    finish("completed", nullptr);
  }
}

void SimResponse::end_message(const char *item_status)
{
  const bool text = plan_.text_only;
  std::string said;
  for (size_t w = 0; w < words_sent_; w++)
    said += words_[w];
  if (text) {
    ObjectPtr done = item_event("response.output_text.done", true);
    json_object_set_string_member(done.get(), "text", said.c_str());
    host_.emit(std::move(done));
  } else {
    host_.emit(item_event("response.output_audio.done", true));
    ObjectPtr done = item_event("response.output_audio_transcript.done", true);
    json_object_set_string_member(done.get(), "transcript", said.c_str());
    host_.emit(std::move(done));
  }
  ObjectPtr part_done = item_event("response.content_part.done", true);
  json_object_set_object_member(part_done.get(), "part", part_json(text, said).release());
  host_.emit(std::move(part_done));

  item_.text = said;
  item_.refresh_json(item_status);
  host_.emit(output_item_event("response.output_item.done", id_, item_.json.get()));
  host_.output_item_done(item_, plan_.in_conversation);
  json_array_add_object_element(output_.get(), json::copy_object(item_.json.get()).release());
}

void SimResponse::call_tool()
{
  stage_ = Stage::Streaming;
  const std::string &args = plan_.reply.tool_arguments;
  item_.id = new_id("item_");
  item_.type = "function_call";
  item_.call_id = new_id("call_");
  item_.json = json::parse_object(R"({"object":"realtime.item","type":"function_call",
      "status":"in_progress","arguments":""})");
  JsonObject *o = item_.json.get();
  json_object_set_string_member(o, "id", item_.id.c_str());
  json_object_set_string_member(o, "call_id", item_.call_id.c_str());
  json_object_set_string_member(o, "name", plan_.reply.tool_name.c_str());
  host_.emit(output_item_event("response.output_item.added", id_, o));
  host_.output_item_added(item_, plan_.in_conversation);

  const size_t half = (args.size() + 1) / 2;
  for (size_t at = 0; at < args.size(); at += half) {
    ObjectPtr delta = item_event("response.function_call_arguments.delta", false);
    json_object_set_string_member(delta.get(), "call_id", item_.call_id.c_str());
    json_object_set_string_member(delta.get(), "delta", args.substr(at, half).c_str());
    host_.emit(std::move(delta));
  }
  ObjectPtr done = item_event("response.function_call_arguments.done", false);
  json_object_set_string_member(done.get(), "call_id", item_.call_id.c_str());
  json_object_set_string_member(done.get(), "name", plan_.reply.tool_name.c_str());
  json_object_set_string_member(done.get(), "arguments", args.c_str());
  host_.emit(std::move(done));

  item_.text = args;
  item_.refresh_json("completed");
  host_.emit(output_item_event("response.output_item.done", id_, o));
  host_.output_item_done(item_, plan_.in_conversation);
  json_array_add_object_element(output_.get(), json::copy_object(o).release());
  finish("completed", nullptr);
}

static JsonObject *usage_json(int64_t in_text, int64_t in_audio, int64_t cached, int64_t out_text,
                              int64_t out_audio)
{
  JsonObject *u = json_object_new();
  json_object_set_int_member(u, "total_tokens", in_text + in_audio + out_text + out_audio);
  json_object_set_int_member(u, "input_tokens", in_text + in_audio);
  json_object_set_int_member(u, "output_tokens", out_text + out_audio);
  JsonObject *in = json_object_new();
  json_object_set_int_member(in, "text_tokens", in_text);
  json_object_set_int_member(in, "audio_tokens", in_audio);
  json_object_set_int_member(in, "cached_tokens", cached);
  json_object_set_object_member(u, "input_token_details", in);
  JsonObject *out = json_object_new();
  json_object_set_int_member(out, "text_tokens", out_text);
  json_object_set_int_member(out, "audio_tokens", out_audio);
  json_object_set_object_member(u, "output_token_details", out);
  return u;
}

static JsonObject *status_details(const char *status, const char *reason)
{
  JsonObject *d = json_object_new();
  json_object_set_string_member(d, "type", status);
  if (reason)
    json_object_set_string_member(d, "reason", reason);
  if (g_str_equal(status, "failed")) {
    JsonObject *error = json_object_new();
    json_object_set_string_member(error, "type", "server_error");
    json_object_set_string_member(error, "code", "speech_synthesis_failed");
    json_object_set_object_member(d, "error", error);
  }
  return d;
}

ObjectPtr SimResponse::response_json(const char *status, const char *reason) const
{
  ObjectPtr r(json_object_new());
  JsonObject *o = r.get();
  json_object_set_string_member(o, "id", id_.c_str());
  json_object_set_string_member(o, "object", "realtime.response");
  json_object_set_string_member(o, "status", status);
  /* The service sends status_details / usage null while in progress; the schema has no null
   * there, so they are left out until response.done (status_details also when completed). */
  if (!g_str_equal(status, "in_progress") && !g_str_equal(status, "completed"))
    json_object_set_object_member(o, "status_details", status_details(status, reason));
  json_object_set_array_member(o, "output", json_array_ref(output_.get()));
  json_object_set_string_member(o, "conversation_id", plan_.conversation_id.c_str());
  JsonArray *modalities = json_array_new();
  json_array_add_string_element(modalities, plan_.text_only ? "text" : "audio");
  json_object_set_array_member(o, "output_modalities", modalities);
  json_object_set_string_member(o, "max_output_tokens", "inf");
  JsonObject *output = json_object_new();
  json_object_set_object_member(output, "format", plan_.format.to_json().release());
  json_object_set_string_member(output, "voice", plan_.voice.c_str());
  JsonObject *audio = json_object_new();
  json_object_set_object_member(audio, "output", output);
  json_object_set_object_member(o, "audio", audio);
  if (plan_.metadata)
    json_object_set_object_member(o, "metadata", json::copy_object(plan_.metadata.get()).release());
  else
    json_object_set_null_member(o, "metadata");
  if (!g_str_equal(status, "in_progress")) {
    int64_t out_audio = std::llround(audio_sent_ms_ / 1000.0 * 20.0);
    int64_t out_text = text_tokens(item_.text.size()) + (item_.type == "function_call" ? 4 : 0);
    json_object_set_object_member(o, "usage", usage_json(plan_.input_text_tokens,
                                                         plan_.input_audio_tokens,
                                                         plan_.cached_tokens, out_text, out_audio));
  }
  return r;
}

void SimResponse::finish(const char *status, const char *reason)
{
  clear_timer();
  if (cancellable_)
    g_cancellable_cancel(cancellable_);
  stage_ = Stage::Finished;
  ObjectPtr done = make_event("response.done");
  json_object_set_object_member(done.get(), "response", response_json(status, reason).release());
  host_.emit(std::move(done));
  host_.response_finished(id_);
}

void SimResponse::cancel(const char *reason)
{
  if (stage_ == Stage::Finished)
    return;
  if (stage_ == Stage::Streaming && content_started_)
    end_message("incomplete");
  finish("cancelled", reason);
}

void SimResponse::abort()
{
  clear_timer();
  if (cancellable_)
    g_cancellable_cancel(cancellable_);
  stage_ = Stage::Finished;
}

void SimResponse::schedule(unsigned interval_ms)
{
  clear_timer();
  timer_ = g_timeout_source_new(interval_ms);
  g_source_set_callback(timer_, on_timer, this, nullptr);
  g_source_attach(timer_, g_main_context_get_thread_default());
}

void SimResponse::clear_timer()
{
  if (!timer_)
    return;
  g_source_destroy(timer_);
  g_source_unref(timer_);
  timer_ = nullptr;
}

gboolean SimResponse::on_timer(gpointer data)
{
  auto *self = static_cast<SimResponse *>(data);
  if (self->stage_ == Stage::Thinking) {
    self->clear_timer();
    self->delay_elapsed_ = true;
    self->maybe_begin();
    return G_SOURCE_REMOVE;
  }
  self->stream_tick();
  return G_SOURCE_CONTINUE;
}

}  // namespace clawvoice::sim
