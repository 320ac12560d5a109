/* clawvoice — SDP offer/answer for a telephone call (see the header). */
#include "sip/sdp_offer_answer.h"

#include <gst/sdp/gstsdpmessage.h>

#include <cstdlib>
#include <functional>
#include <vector>

namespace clawvoice::sip {

const char *codec_name(Codec codec)
{
  return codec == Codec::PCMA ? "PCMA" : "PCMU";
}

guint8 codec_payload_type(Codec codec)
{
  return codec == Codec::PCMA ? 8 : 0;
}

const char *direction_name(Direction direction)
{
  switch (direction) {
    case Direction::SendRecv: return "sendrecv";
    case Direction::SendOnly: return "sendonly";
    case Direction::RecvOnly: return "recvonly";
    case Direction::Inactive: return "inactive";
  }
  return "sendrecv";
}

namespace {

/* Owns a parsed or new GstSDPMessage. */
struct Sdp {
  GstSDPMessage *msg = nullptr;
  Sdp() { gst_sdp_message_new(&msg); }
  ~Sdp() { gst_sdp_message_free(msg); }
  Sdp(const Sdp &) = delete;
  Sdp &operator=(const Sdp &) = delete;
};

bool has_attribute(guint count, const std::function<const GstSDPAttribute *(guint)> &get, const char *key)
{
  for (guint i = 0; i < count; i++) {
    const GstSDPAttribute *a = get(i);
    if (a && a->key && g_ascii_strcasecmp(a->key, key) == 0)
      return true;
  }
  return false;
}

/* The direction attribute of a media section, else of the session, else sendrecv (RFC 3264 §5.1). */
Direction direction_of(const GstSDPMessage *msg, const GstSDPMedia *media)
{
  static const std::pair<const char *, Direction> names[] = {
    {"sendonly", Direction::SendOnly}, {"recvonly", Direction::RecvOnly},
    {"inactive", Direction::Inactive}, {"sendrecv", Direction::SendRecv}};
  for (const auto &[name, dir] : names)
    if (has_attribute(gst_sdp_media_attributes_len(media),
                      [media](guint i) { return gst_sdp_media_get_attribute(media, i); }, name))
      return dir;
  for (const auto &[name, dir] : names)
    if (has_attribute(gst_sdp_message_attributes_len(msg),
                      [msg](guint i) { return gst_sdp_message_get_attribute(msg, i); }, name))
      return dir;
  return Direction::SendRecv;
}

/* What we answer to an offered direction (RFC 3264 §6.1). */
Direction answer_direction(Direction offered)
{
  switch (offered) {
    case Direction::SendOnly: return Direction::RecvOnly;
    case Direction::RecvOnly: return Direction::SendOnly;
    case Direction::Inactive: return Direction::Inactive;
    case Direction::SendRecv: return Direction::SendRecv;
  }
  return Direction::SendRecv;
}

/* "101 telephone-event/8000" for payload type @pt → "telephone-event/8000"; "" when absent. */
std::string rtpmap_of(const GstSDPMedia *media, guint pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(media, i);
    if (!a->key || g_ascii_strcasecmp(a->key, "rtpmap") != 0 || !a->value)
      continue;
    char *end = nullptr;
    unsigned long n = strtoul(a->value, &end, 10);
    if (end == a->value || n != pt)
      continue;
    while (*end == ' ')
      end++;
    return end;
  }
  return "";
}

bool parse_pt(const gchar *format, guint *pt)
{
  if (!format || !*format)
    return false;
  gchar *end = nullptr;
  guint64 n = g_ascii_strtoull(format, &end, 10);
  if (*end || n > 127)
    return false;
  *pt = (guint) n;
  return true;
}

/* c= of the media, else the session's; nullptr if neither has one. */
const GstSDPConnection *connection_of(const GstSDPMessage *msg, const GstSDPMedia *media)
{
  if (gst_sdp_media_connections_len(media) > 0) {
    const GstSDPConnection *c = gst_sdp_media_get_connection(media, 0);
    if (c && c->address && *c->address)
      return c;
  }
  const GstSDPConnection *c = gst_sdp_message_get_connection(msg);
  return c && c->address && *c->address ? c : nullptr;
}

bool is_rtp_avp(const gchar *proto)
{
  return proto && g_ascii_strcasecmp(proto, "RTP/AVP") == 0;
}

/* A rejected stream: same media and proto, port 0, one of its formats (RFC 3264 §6). */
void add_rejected(GstSDPMessage *answer, const GstSDPMedia *offered)
{
  GstSDPMedia *m = nullptr;
  gst_sdp_media_new(&m);
  gst_sdp_media_set_media(m, gst_sdp_media_get_media(offered) ? gst_sdp_media_get_media(offered) : "audio");
  gst_sdp_media_set_port_info(m, 0, 0);
  gst_sdp_media_set_proto(m, gst_sdp_media_get_proto(offered) ? gst_sdp_media_get_proto(offered) : "RTP/AVP");
  const gchar *format = gst_sdp_media_formats_len(offered) > 0 ? gst_sdp_media_get_format(offered, 0) : "0";
  gst_sdp_media_add_format(m, format);
  gst_sdp_message_add_media(answer, m);
  gst_sdp_media_free(m);
}

/* The offer's first t= line. GStreamer 1.22's SDP parser drops t= lines, and the answer must
 * repeat the offer's (RFC 3264 §6), so this one line is read from the text. */
void offered_time(const std::string &offer, std::string *start, std::string *stop)
{
  gchar **lines = g_strsplit(offer.c_str(), "\n", -1);
  for (gchar **line = lines; *line; line++) {
    if (!g_str_has_prefix(*line, "t="))
      continue;
    gchar **parts = g_strsplit(g_strstrip(*line + 2), " ", 3);
    if (parts[0] && parts[1] && g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT64, nullptr, nullptr) &&
        g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT64, nullptr, nullptr)) {
      *start = parts[0];
      *stop = parts[1];
    }
    g_strfreev(parts);
    break;
  }
  g_strfreev(lines);
}


/* Parses @text as SDP with v=0 and an o= line; else *status 400 and *error. */
bool parse_sdp(const std::string &text, Sdp &parsed, guint *status, std::string *error)
{
  if (text.empty() ||
      gst_sdp_message_parse_buffer((const guint8 *) text.data(), text.size(), parsed.msg) != GST_SDP_OK) {
    *status = 400;
    *error = "the body is not SDP";
    return false;
  }
  const gchar *version = gst_sdp_message_get_version(parsed.msg);
  const GstSDPOrigin *origin = gst_sdp_message_get_origin(parsed.msg);
  if (!version || g_strcmp0(version, "0") != 0 || !origin || !origin->sess_id) {
    *status = 400;
    *error = "not SDP: it needs v=0 and an o= line";
    return false;
  }
  return true;
}

/* The first audio stream over RTP/AVP that carries a codec we take, and what it says: *chosen is
 * its index. The same reading serves an offer we answer and an answer to our offer. */
bool choose_audio(const GstSDPMessage *msg, bool prefer_pcma, NegotiatedMedia *out, gint *chosen, guint *status,
                  std::string *error)
{
  guint n_media = gst_sdp_message_medias_len(msg);
  if (n_media == 0) {
    *status = 488;
    *error = "the SDP has no m= line";   /* an offer, or an answer to ours */
    return false;
  }
  *chosen = -1;
  for (guint i = 0; i < n_media && *chosen < 0; i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media(msg, i);
    if (g_strcmp0(gst_sdp_media_get_media(media), "audio") != 0 || !is_rtp_avp(gst_sdp_media_get_proto(media)) ||
        gst_sdp_media_get_port(media) == 0)
      continue;
    std::vector<Codec> offered;
    gint dtmf = -1;
    for (guint f = 0; f < gst_sdp_media_formats_len(media); f++) {
      guint pt = 0;
      if (!parse_pt(gst_sdp_media_get_format(media, f), &pt))
        continue;
      if (pt == 0)
        offered.push_back(Codec::PCMU);
      else if (pt == 8)
        offered.push_back(Codec::PCMA);
      else if (pt >= 96 && dtmf < 0 && g_ascii_strncasecmp(rtpmap_of(media, pt).c_str(), "telephone-event/8000", 20) == 0)
        dtmf = (gint) pt;
    }
    if (offered.empty())
      continue;
    Codec codec = offered.front();
    if (prefer_pcma)
      for (Codec c : offered)
        if (c == Codec::PCMA)
          codec = c;
    const GstSDPConnection *conn = connection_of(msg, media);
    if (!conn) {
      *status = 400;
      *error = "the audio stream has no connection address (c=)";
      return false;
    }
    if (conn->nettype && g_strcmp0(conn->nettype, "IN") != 0) {
      *status = 488;
      *error = std::string("unsupported network type ") + conn->nettype;
      return false;
    }
    guint port = gst_sdp_media_get_port(media);
    if (port > 65535) {
      *status = 400;
      *error = "the audio port is out of range";
      return false;
    }
    NegotiatedMedia &m = *out;
    m.codec = codec;
    m.payload_type = codec_payload_type(codec);
    m.telephone_event_pt = dtmf;
    m.remote_address = conn->address;
    m.remote_port = (guint16) port;
    m.remote_direction = direction_of(msg, media);
    m.local_direction = answer_direction(m.remote_direction);
    /* RFC 2543 hold: c=0.0.0.0 means "send me nothing". */
    bool zero_address = m.remote_address == "0.0.0.0" || m.remote_address == "::";
    if (zero_address && m.remote_direction == Direction::SendRecv)
      m.local_direction = Direction::RecvOnly;
    m.on_hold = zero_address || m.remote_direction == Direction::SendOnly || m.remote_direction == Direction::Inactive;
    *chosen = (gint) i;
  }
  if (*chosen < 0) {
    *status = 488;
    *error = "no audio stream over RTP/AVP offers PCMU (0) or PCMA (8)";
    return false;
  }
  return true;
}

/* v=, o=, s=, c= and t= of an SDP of ours. */
void set_session_lines(GstSDPMessage *msg, const LocalMedia &local, const std::string &start, const std::string &stop)
{
  bool ip6 = local.address.find(':') != std::string::npos;
  std::string id = std::to_string(local.session_id), ver = std::to_string(local.session_version);
  gst_sdp_message_set_version(msg, "0");
  gst_sdp_message_set_origin(msg, "clawvoice", id.c_str(), ver.c_str(), "IN", ip6 ? "IP6" : "IP4",
                             local.address.c_str());
  gst_sdp_message_set_session_name(msg, "clawvoice");
  gst_sdp_message_set_connection(msg, "IN", ip6 ? "IP6" : "IP4", local.address.c_str(), 0, 0);
  gst_sdp_message_add_time(msg, start.c_str(), stop.c_str(), nullptr);
}

std::string as_text(const GstSDPMessage *msg)
{
  gchar *text = gst_sdp_message_as_text(msg);
  std::string out = text;
  g_free(text);
  return out;
}

}  // namespace

std::string make_sdp_offer(const LocalMedia &local)
{
  Sdp offer;
  set_session_lines(offer.msg, local, "0", "0");
  GstSDPMedia *audio = nullptr;
  gst_sdp_media_new(&audio);
  gst_sdp_media_set_media(audio, "audio");
  gst_sdp_media_set_port_info(audio, local.rtp_port, 0);
  gst_sdp_media_set_proto(audio, "RTP/AVP");
  std::vector<Codec> codecs = local.prefer_pcma ? std::vector<Codec>{Codec::PCMA, Codec::PCMU}
                                                : std::vector<Codec>{Codec::PCMU, Codec::PCMA};
  std::string dtmf = std::to_string(kOfferedTelephoneEventPt);
  for (Codec codec : codecs)
    gst_sdp_media_add_format(audio, std::to_string(codec_payload_type(codec)).c_str());
  gst_sdp_media_add_format(audio, dtmf.c_str());
  for (Codec codec : codecs)
    gst_sdp_media_add_attribute(audio, "rtpmap",
                                (std::to_string(codec_payload_type(codec)) + " " + codec_name(codec) + "/8000").c_str());
  gst_sdp_media_add_attribute(audio, "rtpmap", (dtmf + " telephone-event/8000").c_str());
  gst_sdp_media_add_attribute(audio, "fmtp", (dtmf + " 0-16").c_str());
  gst_sdp_media_add_attribute(audio, "ptime", "20");
  gst_sdp_media_add_attribute(audio, "sendrecv", nullptr);
  gst_sdp_message_add_media(offer.msg, audio);
  gst_sdp_media_free(audio);
  return as_text(offer.msg);
}

bool read_sdp_answer(const std::string &answer, NegotiatedMedia *out, std::string *error)
{
  *out = NegotiatedMedia();
  Sdp parsed;
  guint status = 0;
  gint chosen = -1;
  if (!parse_sdp(answer, parsed, &status, error) ||
      !choose_audio(parsed.msg, false, out, &chosen, &status, error))
    return false;
  return true;   /* the callee's direction, and ours (answer_direction) as for an offer */
}

bool negotiate_sdp(const std::string &offer, const LocalMedia &local, Negotiation *out, std::string *error)
{
  *out = Negotiation();
  Sdp parsed;
  gint chosen = -1;
  if (!parse_sdp(offer, parsed, &out->status, error) ||
      !choose_audio(parsed.msg, local.prefer_pcma, &out->media, &chosen, &out->status, error))
    return false;
  const GstSDPMessage *msg = parsed.msg;
  guint n_media = gst_sdp_message_medias_len(msg);

  Sdp answer;
  std::string start = "0", stop = "0";
  offered_time(offer, &start, &stop);
  set_session_lines(answer.msg, local, start, stop);

  const NegotiatedMedia &m = out->media;
  for (guint i = 0; i < n_media; i++) {
    const GstSDPMedia *offered = gst_sdp_message_get_media(msg, i);
    if ((gint) i != chosen) {
      add_rejected(answer.msg, offered);
      continue;
    }
    GstSDPMedia *audio = nullptr;
    gst_sdp_media_new(&audio);
    gst_sdp_media_set_media(audio, "audio");
    gst_sdp_media_set_port_info(audio, local.rtp_port, 0);
    gst_sdp_media_set_proto(audio, "RTP/AVP");
    std::string pt = std::to_string(m.payload_type);
    gst_sdp_media_add_format(audio, pt.c_str());
    std::string dtmf = std::to_string(m.telephone_event_pt);
    if (m.telephone_event_pt >= 0)
      gst_sdp_media_add_format(audio, dtmf.c_str());
    gst_sdp_media_add_attribute(audio, "rtpmap", (pt + " " + codec_name(m.codec) + "/8000").c_str());
    if (m.telephone_event_pt >= 0) {
      gst_sdp_media_add_attribute(audio, "rtpmap", (dtmf + " telephone-event/8000").c_str());
      gst_sdp_media_add_attribute(audio, "fmtp", (dtmf + " 0-16").c_str());
    }
    gst_sdp_media_add_attribute(audio, "ptime", "20");
    gst_sdp_media_add_attribute(audio, direction_name(m.local_direction), nullptr);
    gst_sdp_message_add_media(answer.msg, audio);
    gst_sdp_media_free(audio);
  }
  out->answer = as_text(answer.msg);
  return true;
}

}  // namespace clawvoice::sip
