/* clawvoice — rtpnetsink: G.711 audio packetised into RTP and sent on a UDP socket, in one element.
 *
 * A phone call's reply used to leave through output-selector ! rtppcmupay ! funnel ! valve !
 * udpsink: five elements' pushes, locks and checks for each 20 ms packet, which at 200 calls were a
 * third of the launcher's CPU (the sendmsg itself a tenth of that). Here one render writes the RTP
 * header and sends header and payload in one sendmsg, from the socket rtpnetsrc reads (symmetric
 * RTP). See the SECTION comment in gstrtpnetsink.cpp. */
#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_RTP_NET_SINK (gst_rtp_net_sink_get_type())
G_DECLARE_FINAL_TYPE(GstRtpNetSink, gst_rtp_net_sink, GST, RTP_NET_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(rtpnetsink);

/* The `codec` property: what the sink pad accepts, and so the payload type of the packets. */
typedef enum {
  GST_RTP_NET_SINK_CODEC_PCMU = 0,   /* audio/x-mulaw, payload type 0 */
  GST_RTP_NET_SINK_CODEC_PCMA = 8,   /* audio/x-alaw, payload type 8 */
} GstRtpNetSinkCodec;

#define GST_TYPE_RTP_NET_SINK_CODEC (gst_rtp_net_sink_codec_get_type())
GType gst_rtp_net_sink_codec_get_type(void);

G_END_DECLS
