/* clawvoice — httptools: HTTP endpoints defined in the config, served as tools to the voice model. */
#pragma once

#include "common/gsttoolexecutor.h"

G_BEGIN_DECLS

#define GST_TYPE_HTTP_TOOLS (gst_http_tools_get_type())
G_DECLARE_FINAL_TYPE(GstHttpTools, gst_http_tools, GST, HTTP_TOOLS, GstToolExecutor)

GST_ELEMENT_REGISTER_DECLARE(httptools);

G_END_DECLS
