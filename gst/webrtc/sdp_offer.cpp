#include "webrtc/sdp_offer.h"

#include <glib.h>

#include <sstream>
#include <vector>

namespace clawvoice::webrtc {

namespace {

struct Media {
  std::string kind;                 /* audio, video, application */
  bool rejected = false;            /* port 0 */
  std::vector<std::string> formats;
  std::vector<std::string> attributes;   /* "rtpmap:111 opus/48000/2", … */
};

std::vector<Media> media_sections(const std::string &sdp)
{
  std::vector<Media> out;
  std::istringstream lines(sdp);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.compare(0, 2, "m=") == 0) {
      std::istringstream fields(line.substr(2));
      Media m;
      std::string port, proto, format;
      fields >> m.kind >> port >> proto;
      m.rejected = port == "0";
      while (fields >> format)
        m.formats.push_back(format);
      out.push_back(std::move(m));
    } else if (line.compare(0, 2, "a=") == 0 && !out.empty()) {
      out.back().attributes.push_back(line.substr(2));
    }
  }
  return out;
}

/* The payload type whose rtpmap says opus/48000 and that the m-line lists, or -1. */
int opus_payload_type(const Media &m)
{
  for (const std::string &a : m.attributes) {
    if (a.compare(0, 7, "rtpmap:") != 0)
      continue;
    size_t space = a.find(' ');
    if (space == std::string::npos)
      continue;
    std::string pt = a.substr(7, space - 7);
    gchar *codec = g_ascii_strdown(a.c_str() + space + 1, -1);
    bool opus = g_str_has_prefix(codec, "opus/48000");
    g_free(codec);
    if (!opus)
      continue;
    for (const std::string &f : m.formats) {
      gint64 number = 0;
      if (f == pt && g_ascii_string_to_signed(pt.c_str(), 10, 0, 127, &number, nullptr))
        return (int) number;
    }
  }
  return -1;
}

}  // namespace

OfferAudio inspect_offer(const std::string &sdp)
{
  OfferAudio out;
  std::vector<Media> media = media_sections(sdp);
  bool saw_audio = false;
  for (unsigned i = 0; i < media.size(); i++) {
    const Media &m = media[i];
    if (m.kind != "audio" || m.rejected)
      continue;
    saw_audio = true;
    int pt = opus_payload_type(m);
    if (pt < 0)
      continue;
    out.ok = true;
    out.opus_payload_type = pt;
    out.mline_index = i;
    for (const std::string &a : m.attributes)
      if (a.compare(0, 4, "mid:") == 0)
        out.mid = a.substr(4);
    return out;
  }
  out.error = saw_audio ? "the offer's audio has no Opus (opus/48000/2); the launcher speaks Opus only"
                        : "the offer has no audio track (one sendrecv audio m-line is needed)";
  return out;
}

}  // namespace clawvoice::webrtc
