/* clawvoice — Twilio Media Streams messages (bidirectional streams, text frames only).
 *
 * Inbound (Twilio → us): connected, start, media, dtmf, mark, stop. They are parsed strictly:
 * required members must be there with the right JSON type (sequenceNumber, chunk and timestamp are
 * JSON *strings* of digits), payloads are strict base64. Extra members Twilio may add are tolerated.
 *
 * Outbound (us → Twilio): media, mark, clear — exactly the members Twilio accepts and nothing else
 * (an extra member is error 31951). The outbound parser is just as strict, for peers and tests. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace clawvoice::twilio {

struct MediaFormat {
  std::string encoding;   /* "audio/x-mulaw" */
  int sample_rate = 0;    /* 8000 */
  int channels = 0;       /* 1 */
  /* The only format bidirectional streams carry. */
  bool is_mulaw_8k_mono() const { return encoding == "audio/x-mulaw" && sample_rate == 8000 && channels == 1; }
};

struct ConnectedMessage {
  std::string protocol;   /* "Call" */
  std::string version;    /* "1.0.0" */
};

struct StartMessage {
  uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string account_sid;
  std::string call_sid;
  std::vector<std::string> tracks;
  MediaFormat media_format;
  std::vector<std::pair<std::string, std::string>> custom_parameters;   /* in document order */
};

struct MediaMessage {
  uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string track;        /* "inbound" (or "outbound" on a unidirectional stream of both tracks) */
  uint64_t chunk = 0;
  uint64_t timestamp_ms = 0;   /* since the start of the stream */
  std::vector<uint8_t> payload;   /* raw μ-law */
};

struct DtmfMessage {
  uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string track;
  std::string digit;   /* one of 0-9 * # */
};

struct MarkMessage {
  uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string name;
};

struct StopMessage {
  uint64_t sequence_number = 0;
  std::string stream_sid;
  std::string account_sid;
  std::string call_sid;
};

using InboundMessage =
    std::variant<ConnectedMessage, StartMessage, MediaMessage, DtmfMessage, MarkMessage, StopMessage>;

enum class ParseStatus {
  Ok,
  NotJson,        /* not JSON, or not a JSON object */
  UnknownEvent,   /* a JSON object whose "event" we do not know (or no "event" at all) */
  Invalid,        /* a known event with missing or mistyped members */
};

struct InboundParse {
  ParseStatus status = ParseStatus::NotJson;
  std::string event;   /* the "event" member, when there was one */
  std::string error;   /* what is wrong, for logs (never the payload) */
  std::optional<InboundMessage> message;
};

InboundParse parse_inbound(const std::string &text);
/* The same through json-glib alone: parse_inbound() reads the common media and mark messages
 * without it (see media_stream.cpp), and must always answer as this does. */
InboundParse parse_inbound_with_json_glib(const std::string &text);

/* Outbound builders: compact JSON with exactly Twilio's members. */
std::string build_media(const std::string &stream_sid, const uint8_t *mulaw, size_t size);
std::string build_mark(const std::string &stream_sid, const std::string &name);
std::string build_clear(const std::string &stream_sid);

/* What a Twilio peer receives from us. */
struct OutboundMessage {
  enum class Kind { Media, Mark, Clear } kind = Kind::Media;
  std::string stream_sid;
  std::vector<uint8_t> payload;   /* media */
  std::string name;               /* mark */
};

struct OutboundParse {
  bool ok = false;
  std::string error;
  OutboundMessage message;
};

/* Strict: the members of each event exactly, nothing more, of the right types, strict base64. */
OutboundParse parse_outbound(const std::string &text);

/* Inbound builders, for peers playing Twilio's part (tests, emulator). */
std::string build_connected();
std::string build_start(const StartMessage &start);
std::string build_inbound_media(const MediaMessage &media);
std::string build_dtmf(const DtmfMessage &dtmf);
std::string build_mark_echo(const MarkMessage &mark);
std::string build_stop(const StopMessage &stop);

}  // namespace clawvoice::twilio
