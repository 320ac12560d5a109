/* clawvoice — the GStreamer plugin: a real-time voice for a personal AI agent. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "mulawbridge/gstmulawbridge.h"
#include "openclawrelay/gsthttptools.h"
#include "openclawrelay/gstopenclawrelay.h"
#include "realtimesink/gstrealtimesink.h"
#include "rtpnetsink/gstrtpnetsink.h"
#include "rtpnetsrc/gstrtpnetsrc.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(realtimesink, plugin);
  ok |= GST_ELEMENT_REGISTER(mulawbridge, plugin);
  ok |= GST_ELEMENT_REGISTER(openclawrelay, plugin);
  ok |= GST_ELEMENT_REGISTER(httptools, plugin);
  ok |= GST_ELEMENT_REGISTER(rtpnetsrc, plugin);
  ok |= GST_ELEMENT_REGISTER(rtpnetsink, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, clawvoice,
    "Real-time voice for an AI agent: OpenAI Realtime API, agent tool relay, telephony bridges",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
