#include "speech_synth.h"

#include "resample.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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
  return resample(raw, native_rate, request.rate);
}

struct SpeechSynthesizer::Job {
  SpeechSynthesizer *owner;
  SynthRequest request;
  Done done;
  std::vector<int16_t> pcm;
};

void SpeechSynthesizer::synthesize_async(SynthRequest request, GCancellable *cancellable,
                                         Done done)
{
  auto *job = new Job{this, std::move(request), std::move(done), {}};
  pending_++;
  GTask *task = g_task_new(nullptr, cancellable, job_done, job);
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
  if (!cancellable || !g_cancellable_is_cancelled(cancellable))
    job->done(std::move(job->pcm));
  delete job;
}

}  // namespace clawvoice::sim
