/* Twilio emulator — one Media Streams call, as Twilio runs it against the bridge.
 *
 * It connects a WebSocket to the <Stream url>, sends `connected` and `start` (with the TwiML's
 * <Parameter>s as customParameters), then one 160-byte μ-law `media` frame every 20 ms in real
 * time: the caller audio given, then silence while the call lasts (a phone line never goes quiet
 * on the wire), like Twilio. What the bridge sends back is judged strictly (any violation is
 * recorded with Twilio's error code) and played out through Twilio's buffer (PlayoutBuffer):
 * marks come back once their audio has been played, `clear` drops the rest.
 *
 * Every method may be called from any thread and returns at once; the work happens on the
 * EmulatorThread, where many calls run side by side. report() and wait_for() read a snapshot. */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "call_report.h"
#include "emulator_thread.h"
#include "form_params.h"
#include "stream_messages.h"

namespace clawvoice::test::twilio_emu {

struct CallOptions {
  std::string stream_url;                /* ws:// or wss:// (check it with check_stream_url first) */
  FormParams custom_parameters;          /* sent as start.customParameters */
  StreamIds ids;                         /* empty sids are generated */
  std::vector<guint8> caller_audio;      /* μ-law 8 kHz, streamed from the first media frame */
  guint trailing_silence_ms = 0;         /* explicit silence queued after caller_audio */
  bool silence_when_idle = true;         /* keep sending silence when nothing is queued */
  bool close_after_stop = true;          /* stop() also closes the socket (code 1000) */
  bool record_played_audio = true;       /* keep the played bytes (benchmarks may not need them) */
  bool record_timings = true;            /* keep sent_media / received_media per frame */
  gint64 underrun_max_gap_ms = 1000;     /* see PlayoutBuffer */
  guint connect_timeout_ms = 10000;
};

class MediaStreamCall {
 public:
  MediaStreamCall(std::shared_ptr<EmulatorThread> thread, CallOptions options);
  /* Closes the socket if still open (no stop message) and guarantees that nothing runs after. */
  ~MediaStreamCall();
  MediaStreamCall(const MediaStreamCall &) = delete;
  MediaStreamCall &operator=(const MediaStreamCall &) = delete;

  const StreamIds &ids() const;

  /* Connects; on open sends connected + start and starts the 20 ms clock. */
  void start();
  /* Appends caller audio (μ-law) after what is still queued. */
  void queue_caller_audio(std::vector<guint8> mulaw);
  void send_dtmf(char digit);
  /* Sends `stop` (the caller hung up), stops the clock, and closes unless close_after_stop is off. */
  void stop();

  /* Faults. */
  void vanish();                              /* drop the TCP connection: no stop, no close frame */
  void send_raw(std::string text);            /* any text frame, as is */
  void send_binary(std::vector<guint8> data); /* a binary frame */

  CallReport report() const;
  /* Waits until @predicate(report) holds (re-checked at each change) or @timeout_ms passes. */
  bool wait_for(const std::function<bool(const CallReport &)> &predicate, guint timeout_ms) const;
  bool wait_closed(guint timeout_ms) const;   /* Closed or Failed */

  struct Impl;

 private:
  std::shared_ptr<EmulatorThread> thread_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace clawvoice::test::twilio_emu
