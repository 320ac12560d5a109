/* clawvoice — realtimesink: a pipeline's voice through the OpenAI Realtime API. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_REALTIME_SINK (gst_realtime_sink_get_type())
G_DECLARE_FINAL_TYPE(GstRealtimeSink, gst_realtime_sink, GST, REALTIME_SINK, GstElement)

#define GST_TYPE_REALTIME_TURN_DETECTION (gst_realtime_turn_detection_get_type())
GType gst_realtime_turn_detection_get_type(void);
#define GST_TYPE_REALTIME_NOISE_REDUCTION (gst_realtime_noise_reduction_get_type())
GType gst_realtime_noise_reduction_get_type(void);
#define GST_TYPE_REALTIME_EAGERNESS (gst_realtime_eagerness_get_type())
GType gst_realtime_eagerness_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(realtimesink);

G_END_DECLS
