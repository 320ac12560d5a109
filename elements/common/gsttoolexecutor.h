/* clawvoice — base class for tool-call executors (openclawrelay, httptools, test executors).
 *
 * Handles the contract of clawvoice-contract.h: advertises the subclass's tools in the tools query,
 * hands it the calls it serves, passes the others on, and sends results back upstream. A subclass
 * implements get_tools() and handle_call(); it answers later (from any thread) with
 * gst_tool_executor_send_result(). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_TOOL_EXECUTOR (gst_tool_executor_get_type())
G_DECLARE_DERIVABLE_TYPE(GstToolExecutor, gst_tool_executor, GST, TOOL_EXECUTOR, GstElement)

struct _GstToolExecutorClass {
  GstElementClass parent_class;

  /* Returns a new JSON array text of the Realtime function tools this executor serves. */
  gchar *(*get_tools)(GstToolExecutor *self);
  /* Called on the streaming thread for each call this executor serves; must not block. Return FALSE
   * to pass the call on after all. */
  gboolean (*handle_call)(GstToolExecutor *self, const gchar *call_id, const gchar *name,
      const gchar *arguments_json);

  gpointer _reserved[GST_PADDING];
};

/* Sends a tool result upstream towards realtimesink. Any thread. */
gboolean gst_tool_executor_send_result(GstToolExecutor *self, const gchar *call_id,
    const gchar *output, gboolean respond);
/* Asks realtimesink to say something (see CLAWVOICE_EVENT_INJECT). Any thread. */
gboolean gst_tool_executor_inject(GstToolExecutor *self, const gchar *text, const gchar *role,
    gboolean urgent);

G_END_DECLS
