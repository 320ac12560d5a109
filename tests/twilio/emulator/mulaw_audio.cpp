#include "mulaw_audio.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <cmath>
#include <cstdio>

namespace clawvoice::test::twilio_emu {

int16_t mulaw_to_linear(guint8 ulaw)
{
  ulaw = ~ulaw;
  int sign = ulaw & 0x80;
  int exponent = (ulaw >> 4) & 0x07;
  int mantissa = ulaw & 0x0F;
  int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>(sign ? -magnitude : magnitude);
}

double mulaw_rms(const guint8 *data, size_t len)
{
  if (len == 0)
    return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < len; i++) {
    double v = mulaw_to_linear(data[i]);
    sum += v * v;
  }
  return std::sqrt(sum / len);
}

bool load_wav_as_mulaw(const std::string &path, std::vector<guint8> *out, std::string *error)
{
  out->clear();
  if (!gst_is_initialized())
    gst_init(nullptr, nullptr);

  GstElement *pipeline = gst_pipeline_new("twilio-emu-wav");
  GstElement *src = gst_element_factory_make("filesrc", nullptr);
  GstElement *parse = gst_element_factory_make("wavparse", nullptr);
  GstElement *convert = gst_element_factory_make("audioconvert", nullptr);
  GstElement *resample = gst_element_factory_make("audioresample", nullptr);
  GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
  GstElement *encode = gst_element_factory_make("mulawenc", nullptr);
  GstElement *sink = gst_element_factory_make("appsink", nullptr);
  if (!pipeline || !src || !parse || !convert || !resample || !filter || !encode || !sink) {
    *error = "a GStreamer element is missing (need filesrc, wavparse, audioconvert, "
             "audioresample, mulawenc, appsink)";
    for (GstElement *e : {pipeline, src, parse, convert, resample, filter, encode, sink})
      if (e)
        gst_object_unref(e);
    return false;
  }
  g_object_set(src, "location", path.c_str(), nullptr);
  GstCaps *caps = gst_caps_from_string("audio/x-raw,format=S16LE,rate=8000,channels=1");
  g_object_set(filter, "caps", caps, nullptr);
  gst_caps_unref(caps);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline), src, parse, convert, resample, filter, encode, sink, nullptr);
  gst_element_link_many(src, parse, convert, resample, filter, encode, sink, nullptr);

  bool ok = gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *failure = nullptr;
  /* A decoding error stops the data without EOS, so watch the bus between pulls (bounded). */
  const gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (ok && !failure && g_get_monotonic_time() < give_up) {
    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 50 * GST_MSECOND);
    if (sample) {
      GstBuffer *buffer = gst_sample_get_buffer(sample);
      GstMapInfo map;
      if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        out->insert(out->end(), map.data, map.data + map.size);
        gst_buffer_unmap(buffer, &map);
      }
      gst_sample_unref(sample);
      continue;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink)))
      break;
    failure = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  }
  if (!failure)
    failure = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (failure) {
    GError *gerror = nullptr;
    gst_message_parse_error(failure, &gerror, nullptr);
    *error = "cannot read '" + path + "': " + (gerror ? gerror->message : "unknown error");
    g_clear_error(&gerror);
    gst_message_unref(failure);
    ok = false;
  } else if (!ok) {
    *error = "cannot read '" + path + "'";
  } else if (!gst_app_sink_is_eos(GST_APP_SINK(sink))) {
    *error = "reading '" + path + "' did not finish within 60 s";
    ok = false;
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  if (ok && out->empty()) {
    *error = "'" + path + "' holds no audio";
    ok = false;
  }
  if (!ok)
    out->clear();
  return ok;
}

namespace {
void put_le(std::string &out, guint32 value, int bytes)
{
  for (int i = 0; i < bytes; i++)
    out += static_cast<char>((value >> (8 * i)) & 0xFF);
}
}  // namespace

bool write_mulaw_as_wav(const std::string &path, const std::vector<guint8> &mulaw,
                        std::string *error)
{
  const guint32 data_bytes = mulaw.size() * 2;
  std::string wav;
  wav.reserve(44 + data_bytes);
  wav += "RIFF";
  put_le(wav, 36 + data_bytes, 4);
  wav += "WAVEfmt ";
  put_le(wav, 16, 4);
  put_le(wav, 1, 2);                 /* PCM */
  put_le(wav, 1, 2);                 /* mono */
  put_le(wav, kMulawRate, 4);
  put_le(wav, kMulawRate * 2, 4);    /* byte rate */
  put_le(wav, 2, 2);                 /* block align */
  put_le(wav, 16, 2);                /* bits per sample */
  wav += "data";
  put_le(wav, data_bytes, 4);
  for (guint8 b : mulaw)
    put_le(wav, static_cast<guint16>(mulaw_to_linear(b)), 2);

  GError *gerror = nullptr;
  if (!g_file_set_contents(path.c_str(), wav.data(), wav.size(), &gerror)) {
    *error = gerror->message;
    g_error_free(gerror);
    return false;
  }
  return true;
}

}  // namespace clawvoice::test::twilio_emu
