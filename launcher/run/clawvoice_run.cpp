/* clawvoice-run — runs one launch file to its end.
 *
 *   clawvoice-run pipelines/file-pcm.launch \
 *       --set rt.url=ws://127.0.0.1:8765/v1/realtime --set reply.location=/tmp/reply.wav \
 *       --print-messages --timeout 60
 *
 * Loads the file (comments stripped), builds the pipeline, sets the --set overrides on the named
 * elements, plays it and waits for EOS (exit 0), an ERROR (exit 1) or --timeout (exit 3). The first
 * SIGINT/SIGTERM sends EOS so files are finalised (like gst-launch-1.0 -e); a second one gives up.
 * The clawvoice elements are found like any plugin: GST_PLUGIN_PATH, or the installed plugin dir. */
#include "launch_file.h"

#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>
#include <string>
#include <vector>

using clawvoice::launcher::PropertyOverride;

enum ExitCode { EXIT_EOS = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3 };

struct Run {
  GstElement *pipeline = nullptr;
  GMainLoop *loop = nullptr;
  int exit_code = EXIT_ERROR;
  bool print_messages = false;
  bool eos_sent = false;
  guint timeout_s = 0;
  bool have_cost = false;
  double total_cost = 0.0;
  int responses = 0;
};

static void print_clawvoice_message(Run *run, const GstStructure *s)
{
  const gchar *name = gst_structure_get_name(s);
  if (g_str_equal(name, "clawvoice-transcript")) {
    gboolean final = FALSE;
    gst_structure_get_boolean(s, "final", &final);
    if (!final)
      return;
    const gchar *role = gst_structure_get_string(s, "role");
    const gchar *text = gst_structure_get_string(s, "text");
    printf("%s: %s\n", g_strcmp0(role, "user") == 0 ? "caller" : (role ? role : "?"), text ? text : "");
  } else if (g_str_equal(name, "clawvoice-usage")) {
    run->have_cost = gst_structure_get_double(s, "total-cost", &run->total_cost) || run->have_cost;
    run->responses++;
  } else if (g_str_equal(name, "clawvoice-tool-call")) {
    printf("tool call: %s %s\n", gst_structure_get_string(s, "name"), gst_structure_get_string(s, "arguments"));
  } else if (g_str_equal(name, "clawvoice-tool-result")) {
    gboolean is_error = FALSE;
    gst_structure_get_boolean(s, "error", &is_error);
    printf("tool result%s: %s\n", is_error ? " (error)" : "", gst_structure_get_string(s, "output"));
  } else if (g_str_equal(name, "clawvoice-connection")) {
    const gchar *state = gst_structure_get_string(s, "state");
    const gchar *detail = gst_structure_get_string(s, "detail");
    printf("connection: %s%s%s\n", state, detail && *detail ? " — " : "", detail ? detail : "");
  } else if (g_str_equal(name, "clawvoice-truncate")) {
    gint64 heard = 0;
    gst_structure_get_int64(s, "audio-end-ms", &heard);
    printf("barge-in: the caller heard %" G_GINT64_FORMAT " ms of the reply\n", heard);
  } else {
    return;
  }
  fflush(stdout);
}

static void print_error_message(GstMessage *message, const char *kind)
{
  GError *error = nullptr;
  gchar *debug = nullptr;
  if (kind[0] == 'E')
    gst_message_parse_error(message, &error, &debug);
  else
    gst_message_parse_warning(message, &error, &debug);
  gchar *path = gst_object_get_path_string(GST_MESSAGE_SRC(message));
  fprintf(stderr, "%s from %s: %s\n", kind, path, error ? error->message : "(no message)");
  if (debug)
    fprintf(stderr, "  debug: %s\n", debug);
  g_free(path);
  g_free(debug);
  g_clear_error(&error);
}

static gboolean on_bus_message(GstBus *, GstMessage *message, gpointer data)
{
  Run *run = static_cast<Run *>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      run->exit_code = EXIT_EOS;
      g_main_loop_quit(run->loop);
      break;
    case GST_MESSAGE_ERROR:
      print_error_message(message, "ERROR");
      run->exit_code = EXIT_ERROR;
      g_main_loop_quit(run->loop);
      break;
    case GST_MESSAGE_WARNING:
      print_error_message(message, "WARNING");
      break;
    case GST_MESSAGE_ELEMENT:
      if (run->print_messages && gst_message_get_structure(message))
        print_clawvoice_message(run, gst_message_get_structure(message));
      break;
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(run->pipeline));
      break;
    case GST_MESSAGE_CLOCK_LOST:
      /* Pick a new clock, as gst-launch-1.0 does. */
      gst_element_set_state(run->pipeline, GST_STATE_PAUSED);
      gst_element_set_state(run->pipeline, GST_STATE_PLAYING);
      break;
    case GST_MESSAGE_REQUEST_STATE: {
      GstState state;
      gst_message_parse_request_state(message, &state);
      gst_element_set_state(run->pipeline, state);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean on_timeout(gpointer data)
{
  Run *run = static_cast<Run *>(data);
  fprintf(stderr, "clawvoice-run: no EOS after %u s, giving up\n", run->timeout_s);
  run->exit_code = EXIT_TIMEOUT;
  g_main_loop_quit(run->loop);
  return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
  Run *run = static_cast<Run *>(data);
  if (!run->eos_sent) {
    fprintf(stderr, "clawvoice-run: interrupted, finishing with EOS (again to abort)\n");
    run->eos_sent = true;
    gst_element_send_event(run->pipeline, gst_event_new_eos());
  } else {
    run->exit_code = EXIT_ERROR;
    g_main_loop_quit(run->loop);
  }
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  gchar **sets = nullptr;
  gint timeout_s = 0;
  gboolean print_messages = FALSE;
  GOptionEntry entries[] = {
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
       "Set a property of a named element (repeatable), e.g. rt.url=ws://127.0.0.1:8765/v1/realtime",
       "NAME.PROPERTY=VALUE"},
      {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "Give up (exit 3) without EOS after this long (0 = never)",
       "SECONDS"},
      {"print-messages", 'm', 0, G_OPTION_ARG_NONE, &print_messages,
       "Print the conversation: final transcripts, tool calls, connection changes, total cost", nullptr},
      {nullptr}};
  GOptionContext *context = g_option_context_new("LAUNCH-FILE - run a clawvoice launch file");
  g_option_context_set_summary(context,
      "Runs a pipeline described in gst-launch-1.0 syntax in LAUNCH-FILE ('#' lines are comments)\n"
      "until end of stream. Exit status: 0 EOS, 1 error, 2 bad usage, 3 timeout.");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_option_context_add_group(context, gst_init_get_option_group());
  GError *error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error) || argc != 2 || timeout_s < 0) {
    if (error)
      fprintf(stderr, "clawvoice-run: %s\n", error->message);
    else
      fprintf(stderr, "usage: clawvoice-run [--set NAME.PROPERTY=VALUE]... [--timeout SECONDS] LAUNCH-FILE\n");
    g_clear_error(&error);
    g_option_context_free(context);
    g_strfreev(sets);
    return EXIT_USAGE;
  }
  g_option_context_free(context);

  std::vector<PropertyOverride> overrides;
  for (gchar **set = sets; set && *set; set++) {
    PropertyOverride o;
    std::string why;
    if (!clawvoice::launcher::parse_property_override(*set, &o, &why)) {
      fprintf(stderr, "clawvoice-run: --set %s\n", why.c_str());
      g_strfreev(sets);
      return EXIT_USAGE;
    }
    overrides.push_back(std::move(o));
  }
  g_strfreev(sets);

  Run run;
  run.print_messages = print_messages;
  run.timeout_s = (guint) timeout_s;
  std::string why;
  run.pipeline = clawvoice::launcher::load_launch_file(argv[1], overrides, &why);
  if (!run.pipeline) {
    fprintf(stderr, "clawvoice-run: %s\n", why.c_str());
    return EXIT_ERROR;
  }

  run.loop = g_main_loop_new(nullptr, FALSE);
  GstBus *bus = gst_element_get_bus(run.pipeline);
  gst_bus_add_watch(bus, on_bus_message, &run);
  guint sigint = g_unix_signal_add(SIGINT, on_signal, &run);
  guint sigterm = g_unix_signal_add(SIGTERM, on_signal, &run);
  guint timer = run.timeout_s ? g_timeout_add_seconds(run.timeout_s, on_timeout, &run) : 0;

  if (gst_element_set_state(run.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The element that failed posted an ERROR saying why: print it. */
    GstMessage *message;
    while ((message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR))) {
      print_error_message(message, "ERROR");
      gst_message_unref(message);
    }
    fprintf(stderr, "clawvoice-run: the pipeline did not start\n");
    run.exit_code = EXIT_ERROR;
  } else {
    g_main_loop_run(run.loop);
  }

  if (timer && run.exit_code != EXIT_TIMEOUT)
    g_source_remove(timer);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  gst_element_set_state(run.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(run.pipeline);
  g_main_loop_unref(run.loop);

  if (run.print_messages && run.have_cost)
    printf("cost: $%.4f for %d response%s\n", run.total_cost, run.responses, run.responses == 1 ? "" : "s");
  fflush(stdout);
  if (run.exit_code == EXIT_EOS)
    fprintf(stderr, "clawvoice-run: done (EOS)\n");
  return run.exit_code;
}
