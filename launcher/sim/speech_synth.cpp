#include "speech_synth.h"

#include "net/context_runner.h"

#include "resample.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <mutex>

namespace clawvoice::sim {

namespace {

std::mutex espeak_lock;
int espeak_rate = 0;   /* 0 = not initialised, -1 = failed */

struct Capture {
  std::vector<int16_t> *pcm;
  GCancellable *cancellable;
};

int on_samples(short *wav, int samples, espeak_EVENT *events)
{
  auto *capture = events ? static_cast<Capture *>(events->user_data) : nullptr;
  if (!capture)
    return 0;
  if (capture->cancellable && g_cancellable_is_cancelled(capture->cancellable))
    return 1;   /* abort synthesis */
  if (wav && samples > 0)
    capture->pcm->insert(capture->pcm->end(), wav, wav + samples);
  return 0;
}

/* Called with espeak_lock held. */
bool ensure_initialised()
{
  if (espeak_rate == 0) {
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr,
                                 espeakINITIALIZE_DONT_EXIT);
    espeak_rate = rate > 0 ? rate : -1;
    if (espeak_rate > 0)
      espeak_SetSynthCallback(on_samples);
  }
  return espeak_rate > 0;
}

/* The last few renderings. Every call of a benchmark (and a test's repeated turns) says the same
 * words, and espeak-ng renders one text at a time for the whole process: two hundred calls
 * starting their replies together queued behind that lock for twenty seconds, with one core
 * busy rendering the same words again and again while the bridge under test was measured. */
class RecentRenderings {
 public:
  bool find(const std::string &key, std::vector<int16_t> *pcm)
  {
    std::lock_guard<std::mutex> guard(lock_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != key)
        continue;
      *pcm = it->second;
      entries_.splice(entries_.begin(), entries_, it);   /* most recent first */
      return true;
    }
    return false;
  }
  void add(const std::string &key, const std::vector<int16_t> &pcm)
  {
    std::lock_guard<std::mutex> guard(lock_);
    entries_.emplace_front(key, pcm);
    if (entries_.size() > kCapacity)
      entries_.pop_back();
  }

 private:
  static constexpr size_t kCapacity = 16;   /* a long reply at 24 kHz is about a megabyte */
  std::mutex lock_;
  std::list<std::pair<std::string, std::vector<int16_t>>> entries_;
};

RecentRenderings recent;

std::string rendering_key(const SynthRequest &request)
{
  char tuning[64];
  g_snprintf(tuning, sizeof tuning, "%.4f/%d/", request.speed, request.rate);
  return request.voice + "/" + tuning + request.text;
}

/* The Realtime API's voices, mapped onto espeak-ng's female / male variants so a voice change is
 * audible. */
const char *espeak_voice_for(const std::string &voice)
{
  static const char *const female[] = {"marin", "coral", "sage", "shimmer", "alloy"};
  for (const char *v : female)
    if (voice == v)
      return "en-us+f3";
  return "en-us+m3";
}

}  // namespace

std::vector<int16_t> SpeechSynthesizer::synthesize(const SynthRequest &request,
                                                   GCancellable *cancellable)
{
  const std::string key = rendering_key(request);
  std::vector<int16_t> rendered;
  if (recent.find(key, &rendered))
    return rendered;
  std::vector<int16_t> raw;
  int native_rate;
  {
    std::lock_guard<std::mutex> guard(espeak_lock);
    if (!ensure_initialised())
      return {};
    native_rate = espeak_rate;
    if (espeak_SetVoiceByName(espeak_voice_for(request.voice)) != EE_OK)
      espeak_SetVoiceByName("en");
    /* espeak-ng's default is 175 words per minute. */
    int wpm = (int) std::lround(175.0 * std::clamp(request.speed, 0.25, 1.5));
    espeak_SetParameter(espeakRATE, std::max(80, wpm), 0);
    Capture capture{&raw, cancellable};
    espeak_Synth(request.text.c_str(), request.text.size() + 1, 0, POS_CHARACTER, 0,
                 espeakCHARS_UTF8, nullptr, &capture);
    espeak_Synchronize();
  }
  if (cancellable && g_cancellable_is_cancelled(cancellable))
    return {};
  rendered = resample(raw, native_rate, request.rate);
  if (!rendered.empty())
    recent.add(key, rendered);
  return rendered;
}

struct SpeechSynthesizer::Job {
  SpeechSynthesizer *owner;
  SynthRequest request;
  Done done;
  GMainContext *origin;   /* where @done runs */
  std::vector<int16_t> pcm;
};

void SpeechSynthesizer::synthesize_async(SynthRequest request, GCancellable *cancellable,
                                         Done done)
{
  auto *job = new Job{this, std::move(request), std::move(done), g_main_context_ref_thread_default(), {}};
  pending_++;
  if (home_)
    g_main_context_push_thread_default(home_);   /* the task completes there */
  GTask *task = g_task_new(nullptr, cancellable, job_done, job);
  if (home_)
    g_main_context_pop_thread_default(home_);
  g_task_set_task_data(task, job, nullptr);
  g_task_run_in_thread(task, run_job);
  g_object_unref(task);
}

void SpeechSynthesizer::run_job(GTask *task, gpointer source, gpointer data,
                                GCancellable *cancellable)
{
  auto *job = static_cast<Job *>(data);
  job->pcm = synthesize(job->request, cancellable);
  g_task_return_boolean(task, TRUE);
}

void SpeechSynthesizer::job_done(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *job = static_cast<Job *>(data);
  GCancellable *cancellable = g_task_get_cancellable(G_TASK(result));
  job->owner->pending_--;
  if (!cancellable || !g_cancellable_is_cancelled(cancellable)) {
    if (job->origin == g_main_context_get_thread_default() || !net::ContextRunner::on_runner_thread())
      job->done(std::move(job->pcm));
    else
      net::ContextRunner::run_inline(job->origin, nullptr, [job] { job->done(std::move(job->pcm)); });
  }
  g_main_context_unref(job->origin);
  delete job;
}

}  // namespace clawvoice::sim
