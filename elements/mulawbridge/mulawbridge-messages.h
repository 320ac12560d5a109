/* clawvoice — bus messages posted by mulawbridge (element messages; structure names below).
 *
 * They live here and not in clawvoice-contract.h because only mulawbridge posts them; the launcher
 * reads them to follow a Twilio call. Fields are listed per message; docs/elements.md has the same. */
#pragma once

/* The stream started (Twilio's `start`). Fields: stream-sid, call-sid, account-sid (strings),
 * tracks (GstValueArray of strings), encoding (string), sample-rate, channels (ints),
 * parameters (GstStructure named "parameters": one string field per customParameters entry). */
#define CLAWVOICE_MESSAGE_TWILIO_START "clawvoice-twilio-start"

/* The caller pressed a key. Fields: digit (string, one of 0-9 * #), stream-sid (string). */
#define CLAWVOICE_MESSAGE_DTMF "clawvoice-dtmf"

/* Twilio echoed one of our marks (only with post-marks=true). Fields: name (string), heard (boolean:
 * FALSE when the mark was released by a `clear`), position (guint64 running time, ns, of the end of
 * the audio the mark follows). */
#define CLAWVOICE_MESSAGE_TWILIO_MARK "clawvoice-twilio-mark"

/* The stream ended. Fields: stream-sid, call-sid, account-sid (strings; empty if it never
 * started), reason (string: "stop" for Twilio's `stop`, "closed" for a socket that closed or
 * vanished without one, "error" for a stream mulawbridge refused), close-code (int, WebSocket close
 * code; 0 after `stop` while the socket is still open, 1006 for a socket that vanished). */
#define CLAWVOICE_MESSAGE_TWILIO_STOP "clawvoice-twilio-stop"
