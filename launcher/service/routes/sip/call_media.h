/* clawvoice-launcher — a SIP call's media in its pipeline (pipelines/sip.launch): what the route sets
 * when the pipeline is built, and what it changes while the call runs (re-INVITE: the caller's new
 * address, hold). Holds references to the elements it changes; the pipeline itself stays the call
 * manager's. Thread-safe: element properties are. */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <string>

#include "sip/sdp_offer_answer.h"

namespace clawvoice::launcher::sip {

class CallMedia {
 public:
  CallMedia() = default;
  ~CallMedia();
  CallMedia(const CallMedia &) = delete;
  CallMedia &operator=(const CallMedia &) = delete;

  /* The prepare step of start_pipeline(): @socket (bound to our RTP port) for `rtpin` (rtpnetsrc or udpsrc) and
   * `rtpout` (rtpnetsink, or udpsink after output-selector `codec` and valve `mute`), the caller's
   * address, the answered codec and payload types, the RTP timeout. Sending stays muted until
   * unmute(). False (and *error) if the launch file lacks what it needs. */
  bool prepare(GstBin *pipeline, GSocket *socket, const clawvoice::sip::NegotiatedMedia &media,
               guint rtp_timeout_seconds, std::string *error);
  /* A new answer within the dialog (re-INVITE). */
  void update(const clawvoice::sip::NegotiatedMedia &media);
  /* The 200 OK is out: let our audio flow (unless the caller holds the call). */
  void unmute();

 private:
  void apply_sending();

  GstElement *rtpout_ = nullptr;   /* rtpnetsink, or udpsink */
  GstElement *mute_ = nullptr;     /* valve, with udpsink */
  bool own_sender_ = false;        /* rtpout_ is a rtpnetsink: it mutes itself */
  bool answered_ = false;
  bool hold_ = false;
};

/* The element message rtpnetsrc (or udpsrc) posts when no packet arrived within its `timeout`. */
bool is_rtp_timeout_message(GstMessage *message);

}  // namespace clawvoice::launcher::sip
