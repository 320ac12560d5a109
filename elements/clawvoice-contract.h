/* clawvoice — the contract between the plugin's elements, and between them and applications.
 *
 * TOOL CALLS travel as buffers on links declared in the launch file:
 *
 *   realtimesink name=rt  rt.tools ! openclawrelay ! httptools
 *
 * - realtimesink's `tools` src pad pushes one buffer per function call the model makes, caps
 *   `application/x-clawvoice-tool-call`, payload the UTF-8 JSON `{"call_id","name","arguments"}`
 *   (`arguments` is the model's JSON text, unparsed).
 * - Each executor serves some tools and passes every other call on through its own src pad. The last
 *   executor's src pad stays unlinked: a call that reaches its end comes back as GST_FLOW_NOT_LINKED,
 *   and realtimesink answers the model with an error result at once, so the model never hangs.
 * - Results go back UPSTREAM as a custom event (CLAWVOICE_EVENT_TOOL_RESULT) pushed on the executor's
 *   sink pad; executors in between forward it. It may be sent at any time from any thread (an
 *   executor answers "working on it" at once and injects the real answer later).
 * - At start (READY→PAUSED, and on reconnect) realtimesink asks the chain which tools it serves with a
 *   custom downstream query (CLAWVOICE_QUERY_TOOLS); each executor appends its tools and forwards the
 *   query. The tools go into the Realtime session.
 * - Executors may ask for something to be said (CLAWVOICE_EVENT_INJECT, upstream): realtimesink adds
 *   it to the conversation and asks for a response when no reply is in progress.
 *
 * BARGE-IN: on the caller's speech during a reply realtimesink drops its unplayed audio and sends the
 * out-of-band downstream event CLAWVOICE_EVENT_CLEAR on its src pad, so that a transport with its own
 * buffer (mulawbridge → Twilio `clear`) drops it too. What the caller actually HEARD is asked with the
 * custom downstream query CLAWVOICE_QUERY_HEARD_POSITION, which transports that buffer remotely
 * answer with what the far end confirmed as played, and which passes through transforms (capsfilter,
 * audioresample, mulawenc forward custom queries). A POSITION query would not do: a GstBaseTransform
 * answers it itself with what it last pushed, i.e. what was SENT. Without an answer, a sink directly
 * downstream is asked for its POSITION, else the clock minus the latency is taken.
 *
 * BUS: realtimesink posts element messages with the structure names below (fields in docs/elements.md).
 */
#pragma once

#define CLAWVOICE_TOOL_CALL_CAPS "application/x-clawvoice-tool-call"

/* Downstream custom query; field "tools" (string): a JSON array of Realtime function tools
 * ({"type":"function","name","description","parameters"}). Executors append and forward. */
#define CLAWVOICE_QUERY_TOOLS "clawvoice-tools"

/* Upstream custom event; fields "call-id" (string), "output" (string, usually JSON), "respond"
 * (boolean, default TRUE: ask the model to respond once the output is in). */
#define CLAWVOICE_EVENT_TOOL_RESULT "clawvoice-tool-result"

/* Upstream custom event; fields "text" (string), "role" ("system" or "user", default "system"),
 * "urgent" (boolean, default FALSE: wait for the caller's turn and any reply in progress to end),
 * "respond" (boolean, default TRUE: ask for a reply once it is in; FALSE adds context silently). */
#define CLAWVOICE_EVENT_INJECT "clawvoice-inject"

/* Downstream serialized custom event on the `tools` pad, one per final transcript of a turn, so that
 * executors know what was said (openclawrelay writes the call's transcript to the agent's memory);
 * fields "role" ("user" or "assistant"), "text", "item-id". Executors forward it. */
#define CLAWVOICE_EVENT_TRANSCRIPT "clawvoice-transcript"

/* Downstream custom query; the answer sets "position" (guint64): the running time (ns) up to which
 * the listener has heard our audio. */
#define CLAWVOICE_QUERY_HEARD_POSITION "clawvoice-heard-position"

/* Downstream out-of-band custom event: drop any audio buffered for playback. No fields. */
#define CLAWVOICE_EVENT_CLEAR "clawvoice-clear"

/* Element messages posted by realtimesink. */
#define CLAWVOICE_MESSAGE_CONNECTION "clawvoice-connection"   /* state, detail, reconnects */
#define CLAWVOICE_MESSAGE_TRANSCRIPT "clawvoice-transcript"   /* role, text, item-id, final */
#define CLAWVOICE_MESSAGE_TURN "clawvoice-turn"               /* event, item-id, response-id, status */
#define CLAWVOICE_MESSAGE_TOOL_CALL "clawvoice-tool-call"     /* call-id, name, arguments */
#define CLAWVOICE_MESSAGE_TOOL_RESULT "clawvoice-tool-result" /* call-id, output, error */
#define CLAWVOICE_MESSAGE_TRUNCATE "clawvoice-truncate"       /* item-id, audio-end-ms, received-ms */
#define CLAWVOICE_MESSAGE_USAGE "clawvoice-usage"             /* tokens…, cost, total-cost */
#define CLAWVOICE_MESSAGE_SERVER_ERROR "clawvoice-server-error" /* code, message, param, event-id */

/* When a caller's audio reached this host: a GstReferenceTimestampMeta of these caps (the Unix
 * epoch in ns). rtpnetsrc adds the kernel's receive time of each RTP packet; it survives the
 * depayloaders. realtimesink counts, per buffer that has one, the time from then until its audio
 * left for the Realtime service: the delay the launcher adds inbound. */
#define CLAWVOICE_ARRIVAL_TIME_CAPS "timestamp/x-unix"
/* realtimesink's stats field "input-delay-histogram" (GstValueArray of guint64): those delays
 * counted by upper bound (µs), plus one last count for the longer ones. */
#define CLAWVOICE_INPUT_DELAY_BOUNDS_US \
  { 500, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 50000, 100000, 250000 }
#define CLAWVOICE_INPUT_DELAY_BUCKETS 14
