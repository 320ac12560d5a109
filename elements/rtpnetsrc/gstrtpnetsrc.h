/* clawvoice — rtpnetsrc: RTP from a UDP socket, read on a clawvoice network thread and put back in
 * order there (a jitter buffer without a thread of its own).
 *
 * udpsrc ! rtpjitterbuffer costs a phone call three threads (udpsrc's, the jitter buffer's timer
 * and its output task), and each packet a wake-up of each: two hundred calls ran 600 threads on two
 * cores. Here the call's socket is one more descriptor on its pooled network context, beside its
 * Realtime WebSocket (net::NetThread::acquire_pooled()), and each packet is pushed downstream from
 * that thread as it is read. See the SECTION comment in gstrtpnetsrc.cpp. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_RTP_NET_SRC (gst_rtp_net_src_get_type())
G_DECLARE_FINAL_TYPE(GstRtpNetSrc, gst_rtp_net_src, GST, RTP_NET_SRC, GstElement)

GST_ELEMENT_REGISTER_DECLARE(rtpnetsrc);

/* The element message posted when no packet came for `timeout` (again every `timeout` after). */
#define CLAWVOICE_RTP_TIMEOUT_MESSAGE "clawvoice-rtp-timeout"

G_END_DECLS
