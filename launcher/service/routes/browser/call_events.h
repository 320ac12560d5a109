/* clawvoice-launcher — what the voice page is told about its call: the pipeline's bus messages
 * (realtimesink's transcripts, turns and usage; openclawrelay's tasks) as `event` payloads.
 *
 *   {"kind":"transcript","role":"user"|"assistant","text","item_id","final"}
 *   {"kind":"turn","event":"speech-started"|"speech-stopped"|"response-started"|"response-done"|"barge-in"}
 *   {"kind":"task","task_id","status":"pending"|"running"|"done"|…,"question","answer"?,"error"?,"elapsed_ms"}
 *   {"kind":"cost","total_usd","last_usd"}
 *
 * Shapes documented in docs/browser.md; nothing here knows about sockets. */
#pragma once

#include <gst/gst.h>

#include "common/json.h"

namespace clawvoice::launcher {

/* The `event` payload for @message, or nullptr when the page does not need it. */
json::ObjectPtr call_event_payload(GstMessage *message);

}  // namespace clawvoice::launcher
