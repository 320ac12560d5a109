#include "routes/sip/call_media.h"

namespace clawvoice::launcher::sip {

using clawvoice::sip::Direction;
using clawvoice::sip::NegotiatedMedia;

namespace {

GstElement *element_named(GstBin *pipeline, const char *name, const char *factory, std::string *error)
{
  GstElement *e = gst_bin_get_by_name(pipeline, name);
  if (!e) {
    *error = std::string("the launch file has no ") + factory + " named '" + name + "'";
    return nullptr;
  }
  GstElementFactory *f = gst_element_get_factory(e);
  if (!f || g_strcmp0(GST_OBJECT_NAME(f), factory) != 0) {
    *error = std::string("'") + name + "' must be a " + factory;
    gst_object_unref(e);
    return nullptr;
  }
  return e;
}

/* What the demuxer asks for each new payload type: telephone-event needs its encoding name (the
 * depayloader insists on it); the audio codec's static type is enough as it comes. */
GstCaps *on_request_pt_map(GstElement *, guint pt, gpointer data)
{
  gint dtmf = GPOINTER_TO_INT(data) - 1;
  if ((gint) pt != dtmf)
    return nullptr;
  return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "clock-rate", G_TYPE_INT, 8000,
                             "encoding-name", G_TYPE_STRING, "TELEPHONE-EVENT", "payload", G_TYPE_INT, (gint) pt,
                             nullptr);
}

/* The telephone-event stream appears: link it to `dtmf` (its pad name carries the payload type,
 * which the offer chose, so the launch file cannot link it by name). Streaming thread; no waiting. */
void on_pad_added(GstElement *demux, GstPad *pad, gpointer data)
{
  gint dtmf = GPOINTER_TO_INT(data) - 1;
  gchar *want = g_strdup_printf("src_%d", dtmf);
  bool match = dtmf >= 0 && g_strcmp0(GST_PAD_NAME(pad), want) == 0;
  g_free(want);
  if (!match)
    return;
  GstObject *parent = gst_object_get_parent(GST_OBJECT(demux));
  GstElement *depay = parent ? gst_bin_get_by_name(GST_BIN(parent), "dtmf") : nullptr;
  if (depay) {
    GstPad *sink = gst_element_get_static_pad(depay, "sink");
    if (sink && !gst_pad_is_linked(sink))
      gst_pad_link(pad, sink);
    if (sink)
      gst_object_unref(sink);
    gst_object_unref(depay);
  }
  if (parent)
    gst_object_unref(parent);
}

}  // namespace

CallMedia::~CallMedia()
{
  if (rtpout_)
    gst_object_unref(rtpout_);
  if (mute_)
    gst_object_unref(mute_);
}

bool CallMedia::prepare(GstBin *pipeline, GSocket *socket, const NegotiatedMedia &media, guint rtp_timeout_seconds,
                        std::string *error)
{
  /* rtpnetsrc (sip.launch), or udpsrc ! rtpjitterbuffer in a launch file of one's own: both take
   * the socket and the timeout under the same names. */
  GstElement *rtpin = element_named(pipeline, "rtpin", "rtpnetsrc", error);
  const bool own_receiver = rtpin != nullptr;
  if (!rtpin) {
    std::string second;
    rtpin = element_named(pipeline, "rtpin", "udpsrc", &second);
    if (!rtpin) {
      GstElement *named = gst_bin_get_by_name(pipeline, "rtpin");
      *error = named ? "'rtpin' must be a rtpnetsrc or a udpsrc"
                     : "the launch file has no rtpnetsrc (or udpsrc) named 'rtpin'";
      if (named)
        gst_object_unref(named);
      return false;
    }
    error->clear();
  }
  g_object_set(rtpin, "socket", socket, "close-socket", FALSE, "timeout",
               (guint64) rtp_timeout_seconds * GST_SECOND, nullptr);
  gboolean depayloading = FALSE;
  if (own_receiver)
    g_object_get(rtpin, "depayload", &depayloading, nullptr);
  if (depayloading)
    g_object_set(rtpin, "telephone-event-payload-type", (gint) media.telephone_event_pt, nullptr);
  gst_object_unref(rtpin);

  /* rtpnetsrc depayload=true (sip.launch) puts out the audio and posts the telephone-events itself;
   * otherwise `pt` splits the stream for the depayloaders and `dtmf`. */
  GstElement *demux = depayloading ? nullptr : element_named(pipeline, "pt", "rtpptdemux", error);
  if (!depayloading && !demux)
    return false;
  /* Only what we answered gets through: comfort noise, an unanswered codec, … are dropped. By
   * rtpnetsrc, from a list of two; rtpptdemux would walk a list of the 126 others per packet. */
  auto int_array = [](auto &&keep) {
    GValue array = G_VALUE_INIT;
    gst_value_array_init(&array, 128);
    for (gint pt = 0; pt < 128; pt++) {
      if (!keep(pt))
        continue;
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_INT);
      g_value_set_int(&v, pt);
      gst_value_array_append_and_take_value(&array, &v);
    }
    return array;
  };
  auto answered = [&media](gint pt) { return pt == media.payload_type || pt == media.telephone_event_pt; };
  GValue types = own_receiver ? int_array(answered) : int_array([&](gint pt) { return !answered(pt); });
  if (own_receiver) {
    GstElement *receiver = gst_bin_get_by_name(pipeline, "rtpin");
    g_object_set_property(G_OBJECT(receiver), "payload-types", &types);
    gst_object_unref(receiver);
  } else {
    g_object_set_property(G_OBJECT(demux), "ignored-payload-types", &types);
  }
  g_value_unset(&types);
  if (demux) {
    gpointer dtmf = GINT_TO_POINTER(media.telephone_event_pt + 1);
    g_signal_connect(demux, "request-pt-map", G_CALLBACK(on_request_pt_map), dtmf);
    g_signal_connect(demux, "pad-added", G_CALLBACK(on_pad_added), dtmf);
    gst_object_unref(demux);
  }

  /* rtpnetsink (sip.launch): codec, mute and sending in one element. */
  rtpout_ = element_named(pipeline, "rtpout", "rtpnetsink", error);
  if (rtpout_) {
    own_sender_ = true;
    hold_ = media.on_hold;
    g_object_set(rtpout_, "socket", socket, "close-socket", FALSE, "host", media.remote_address.c_str(), "port",
                 (gint) media.remote_port, nullptr);
    gst_util_set_object_arg(G_OBJECT(rtpout_), "codec", media.codec == clawvoice::sip::Codec::PCMA ? "pcma" : "pcmu");
    apply_sending();
    return true;
  }
  /* Or, in a launch file of one's own, the stock elements: output-selector `codec` before the two
   * payloaders, valve `mute`, udpsink `rtpout`. */
  GstElement *named = gst_bin_get_by_name(pipeline, "rtpout");
  GstElementFactory *factory = named ? gst_element_get_factory(named) : nullptr;
  const bool stock_sender = factory && g_strcmp0(GST_OBJECT_NAME(factory), "udpsink") == 0;
  if (named)
    gst_object_unref(named);
  if (!stock_sender) {
    *error = named ? "'rtpout' must be a rtpnetsink or a udpsink" : "the launch file has no rtpnetsink (or udpsink) named 'rtpout'";
    return false;
  }
  error->clear();

  GstElement *codec = element_named(pipeline, "codec", "output-selector", error);
  if (!codec)
    return false;
  const char *pad_name = media.codec == clawvoice::sip::Codec::PCMA ? "src_1" : "src_0";
  GstPad *active = gst_element_get_static_pad(codec, pad_name);
  if (!active) {
    *error = std::string("output-selector 'codec' has no ") + pad_name + " (link codec." + pad_name + " to a payloader)";
    gst_object_unref(codec);
    return false;
  }
  g_object_set(codec, "active-pad", active, nullptr);
  gst_object_unref(active);
  gst_object_unref(codec);

  rtpout_ = element_named(pipeline, "rtpout", "udpsink", error);
  if (!rtpout_)
    return false;
  mute_ = element_named(pipeline, "mute", "valve", error);
  if (!mute_)
    return false;
  g_object_set(rtpout_, "socket", socket, "close-socket", FALSE, nullptr);
  hold_ = media.on_hold;
  g_object_set(rtpout_, "host", media.remote_address.c_str(), "port", (gint) media.remote_port, nullptr);
  apply_sending();
  return true;
}

void CallMedia::update(const NegotiatedMedia &media)
{
  hold_ = media.on_hold;
  bool zero = media.remote_address == "0.0.0.0" || media.remote_address == "::";
  if (rtpout_ && !zero)
    g_object_set(rtpout_, "host", media.remote_address.c_str(), "port", (gint) media.remote_port, nullptr);
  apply_sending();
}

void CallMedia::unmute()
{
  answered_ = true;
  apply_sending();
}

void CallMedia::apply_sending()
{
  const gboolean silent = !answered_ || hold_;
  if (own_sender_)
    g_object_set(rtpout_, "mute", silent, nullptr);
  else if (mute_)
    g_object_set(mute_, "drop", silent, nullptr);
}

bool is_rtp_timeout_message(GstMessage *message)
{
  const GstStructure *s = gst_message_get_structure(message);
  return s && (gst_structure_has_name(s, "clawvoice-rtp-timeout") || gst_structure_has_name(s, "GstUDPSrcTimeout"));
}

}  // namespace clawvoice::launcher::sip
