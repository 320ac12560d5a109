/* clawvoice-launcher — finding a call pipeline's elements by what they are (their factory), for
 * the settings the launcher owns (backend URLs, the Twilio socket) whatever the launch file names them. */
#pragma once

#include <gst/gst.h>

#include <functional>

namespace clawvoice::launcher {

/* Calls @fn for every element made by @factory_name anywhere in @bin. */
void for_each_element_of(GstBin *bin, const char *factory_name, const std::function<void(GstElement *)> &fn);

}  // namespace clawvoice::launcher
