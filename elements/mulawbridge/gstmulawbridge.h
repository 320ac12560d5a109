/* clawvoice — mulawbridge: a Twilio Media Streams endpoint as a pipeline element.
 *
 * `src` puts out the caller's μ-law; `sink` takes our reply and sends it to Twilio paced, with marks
 * that tell what the caller actually heard. See the SECTION comment in gstmulawbridge.cpp and
 * docs/elements.md; bus messages are in mulawbridge-messages.h.
 *
 * HOW A LAUNCHER HANDS OVER A CALL (the `connection` property)
 *
 *   1. The connection is a ClawvoiceWebSocket (net/web_socket.h: a SoupServer's upgrade, stolen
 *      with net::upgrade_websocket() and StolenWebSocket::connect_own()). It lives on a clawvoice
 *      network thread: either the shared one (a SoupServer on
 *      clawvoice::net::NetThread::acquire()->context()), or one the connection was marked with
 *      (net::NetThread::mark(): the launcher makes each media stream on a pool thread); the element
 *      uses the connection from that thread. The launcher reads `connected` and `start` itself and
 *      checks the token in start.customParameters.
 *   2. It builds the pipeline and, in the same network-thread callback that read `start` (so that no
 *      further message is dispatched to it in between), and sets
 *      on the mulawbridge `start-message` (the raw text of `start`) and `connection`. Setting
 *      `connection` takes the connection over at once, from any thread (it hops onto the network
 *      thread and waits; inline when called there): the element connects its handlers and keeps
 *      every message that arrives until it starts (about 20 s at most).
 *   3. It sets the pipeline to PLAYING, from any thread. At READY→PAUSED the element handles
 *      `start-message` first, then the kept messages in order, then live ones.
 *   4. The call ends with the clawvoice-twilio-stop message (Twilio's `stop` or a closed socket),
 *      then EOS once realtimesink has finished. Setting the pipeline to NULL closes the WebSocket
 *      normally (1000) if it is still open, which lets Twilio run the TwiML after <Connect>.
 *
 * Without a launcher, `listen=true` makes the element run its own server (gst-launch-1.0). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_MULAW_BRIDGE (gst_mulaw_bridge_get_type())
G_DECLARE_FINAL_TYPE(GstMulawBridge, gst_mulaw_bridge, GST, MULAW_BRIDGE, GstElement)

GST_ELEMENT_REGISTER_DECLARE(mulawbridge);

G_END_DECLS
