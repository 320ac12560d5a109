/* clawvoice — openclawrelay: the OpenClaw agent behind the voice, as a tool-call executor. */
#pragma once

#include "common/gsttoolexecutor.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENCLAW_RELAY (gst_openclaw_relay_get_type())
G_DECLARE_FINAL_TYPE(GstOpenClawRelay, gst_openclaw_relay, GST, OPENCLAW_RELAY, GstToolExecutor)

#define GST_TYPE_OPENCLAW_RELAY_SESSION_MODE (gst_openclaw_relay_session_mode_get_type())
GType gst_openclaw_relay_session_mode_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(openclawrelay);

G_END_DECLS
