#include "twiml.h"

#include <glib.h>

#include <set>

namespace clawvoice::test::twilio_emu {

namespace {

const std::set<std::string> kVerbs = {"Say",   "Play",    "Pause",  "Gather", "Dial",
                                      "Record", "Redirect", "Reject", "Hangup", "Enqueue",
                                      "Leave", "Refer",   "Start",  "Stop",   "Connect", "Sms"};

struct Reader {
  TwimlOptions options;
  TwimlResult result;
  std::vector<std::string> stack;
  int responses = 0;
  int connects = 0;
  int streams = 0;
  bool connect_done = false;

  void error(int code, std::string message) { result.errors.push_back({code, std::move(message)}); }

  /* Checks that every attribute is in @allowed and that @required ones are present; returns the
   * attribute map. */
  std::vector<std::pair<std::string, std::string>> attributes(
      const char *element, const gchar **names, const gchar **values,
      const std::set<std::string> &allowed, const std::set<std::string> &required)
  {
    std::vector<std::pair<std::string, std::string>> attrs;
    std::set<std::string> seen;
    for (int i = 0; names[i]; i++) {
      if (!allowed.count(names[i]))
        error(12200, std::string("<") + element + "> has an unknown attribute '" + names[i] + "'");
      seen.insert(names[i]);
      attrs.emplace_back(names[i], values[i]);
    }
    for (const auto &name : required)
      if (!seen.count(name))
        error(12200, std::string("<") + element + "> lacks the required attribute '" + name + "'");
    return attrs;
  }

  void start(const std::string &name, const gchar **names, const gchar **values)
  {
    const std::string parent = stack.empty() ? "" : stack.back();
    stack.push_back(name);

    if (parent.empty()) {
      if (name != "Response")
        error(12200, "the root element is <" + name + ">, not <Response>");
      responses++;
      attributes("Response", names, values, {}, {});
      return;
    }
    if (parent == "Response") {
      if (connect_done) {
        if (!kVerbs.count(name))
          error(12200, "<" + name + "> is not a TwiML verb");
        result.stream.verbs_after_connect.push_back(name);
        return;
      }
      if (name != "Connect") {
        error(12200, "<" + name + "> before <Connect>: the answer must start with <Connect><Stream>");
        return;
      }
      connects++;
      for (const auto &[key, value] :
           attributes("Connect", names, values, {"action", "method"}, {}))
        if (key == "action")
          result.stream.connect_action = value;
      return;
    }
    if (parent == "Connect" && stack.size() == 3) {
      if (name != "Stream") {
        error(12200, "<Connect> holds <" + name + ">: only <Stream> is expected");
        return;
      }
      streams++;
      for (const auto &[key, value] :
           attributes("Stream", names, values,
                      {"url", "name", "track", "statusCallback", "statusCallbackMethod"}, {"url"})) {
        if (key == "url")
          result.stream.url = value;
        else if (key == "name")
          result.stream.name = value;
        else if (key == "track")
          result.stream.track = value;
        else if (key == "statusCallback")
          result.stream.status_callback = value;
        else if (key == "statusCallbackMethod")
          result.stream.status_callback_method = value;
      }
      return;
    }
    if (parent == "Stream" && stack.size() == 4) {
      if (name != "Parameter") {
        error(12200, "<Stream> holds <" + name + ">: only <Parameter> is allowed");
        return;
      }
      std::string pname, pvalue;
      for (const auto &[key, value] :
           attributes("Parameter", names, values, {"name", "value"}, {"name", "value"})) {
        if (key == "name")
          pname = value;
        else
          pvalue = value;
      }
      result.stream.parameters.emplace_back(pname, pvalue);
      return;
    }
    if (stack.size() > 2 && connect_done && stack[1] != "Connect")
      return;   /* the inside of a verb after <Connect> is not ours to judge */
    error(12200, "<" + name + "> is not allowed inside <" + parent + ">");
  }

  void end(const std::string &name)
  {
    if (name == "Connect" && stack.size() == 2)
      connect_done = true;
    stack.pop_back();
  }

  void text(const gchar *text, gsize len)
  {
    for (gsize i = 0; i < len; i++) {
      if (!g_ascii_isspace(text[i])) {
        /* Verbs after <Connect> (e.g. <Say>) carry text; ours carry none. */
        if (stack.size() >= 2 && stack[1] != "Connect" && connect_done)
          return;
        error(12200, "unexpected text inside <" + (stack.empty() ? std::string("document") : stack.back()) + ">");
        return;
      }
    }
  }
};

void on_start(GMarkupParseContext *, const gchar *name, const gchar **names, const gchar **values,
              gpointer data, GError **)
{
  static_cast<Reader *>(data)->start(name, names, values);
}

void on_end(GMarkupParseContext *, const gchar *name, gpointer data, GError **)
{
  static_cast<Reader *>(data)->end(name);
}

void on_text(GMarkupParseContext *, const gchar *text, gsize len, gpointer data, GError **)
{
  static_cast<Reader *>(data)->text(text, len);
}

bool is_loopback_v4(const char *host)
{
  return host && g_strcmp0(host, "127.0.0.1") == 0;
}

}  // namespace

bool TwimlResult::has_error(int code) const
{
  for (const auto &e : errors)
    if (e.code == code)
      return true;
  return false;
}

std::string TwimlResult::describe() const
{
  std::string out;
  for (const auto &e : errors) {
    if (!out.empty())
      out += "; ";
    out += std::to_string(e.code) + ": " + e.message;
  }
  return out;
}

std::vector<TwimlError> check_stream_url(const std::string &url, const TwimlOptions &options)
{
  std::vector<TwimlError> errors;
  GError *error = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &error);
  if (!uri) {
    errors.push_back({31923, "malformed stream URL '" + url + "': " + error->message});
    g_error_free(error);
    return errors;
  }
  const char *scheme = g_uri_get_scheme(uri);
  const char *host = g_uri_get_host(uri);
  if (!host || !*host)
    errors.push_back({31923, "stream URL '" + url + "' has no host"});
  if (g_strcmp0(scheme, "wss") != 0) {
    bool loopback_ws = options.allow_ws_loopback && g_strcmp0(scheme, "ws") == 0 &&
                       is_loopback_v4(host);
    if (!loopback_ws)
      errors.push_back({31922, std::string("stream URL scheme '") + (scheme ? scheme : "") +
                                   "' is not wss" +
                                   (g_strcmp0(scheme, "ws") == 0 && options.allow_ws_loopback
                                        ? " (ws is allowed for 127.0.0.1 only)"
                                        : "")});
  }
  if (g_uri_get_query(uri))
    errors.push_back({31920, "stream URL '" + url +
                                 "' carries a query string: pass data as <Parameter>s"});
  if (g_uri_get_fragment(uri))
    errors.push_back({31923, "stream URL '" + url + "' carries a fragment"});
  if (g_uri_get_userinfo(uri))
    errors.push_back({31923, "stream URL '" + url + "' carries user info"});
  g_uri_unref(uri);
  return errors;
}

TwimlResult parse_connect_stream_twiml(const std::string &xml, const TwimlOptions &options)
{
  Reader reader;
  reader.options = options;
  static const GMarkupParser parser = {on_start, on_end, on_text, nullptr, nullptr};
  GMarkupParseContext *context =
      g_markup_parse_context_new(&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &reader, nullptr);
  GError *error = nullptr;
  bool parsed = g_markup_parse_context_parse(context, xml.data(), xml.size(), &error) &&
                g_markup_parse_context_end_parse(context, &error);
  g_markup_parse_context_free(context);
  if (!parsed) {
    TwimlResult failed;
    failed.errors.push_back({12100, std::string("document parse failure: ") + error->message});
    g_error_free(error);
    return failed;
  }

  TwimlResult &result = reader.result;
  if (reader.responses == 0)
    result.errors.push_back({12100, "empty document"});
  if (reader.connects != 1)
    result.errors.push_back(
        {12200, "expected exactly one <Connect>, found " + std::to_string(reader.connects)});
  if (reader.streams != 1)
    result.errors.push_back(
        {12200, "expected exactly one <Stream> in <Connect>, found " + std::to_string(reader.streams)});
  if (!result.stream.url.empty())
    for (auto &e : check_stream_url(result.stream.url, options))
      result.errors.push_back(std::move(e));
  /* <Connect><Stream> streams the caller's audio only. */
  if (!result.stream.track.empty() && result.stream.track != "inbound_track")
    result.errors.push_back(
        {12200, "<Stream track='" + result.stream.track + "'>: <Connect> allows inbound_track only"});
  if (!result.stream.status_callback.empty()) {
    GUri *cb = g_uri_parse(result.stream.status_callback.c_str(), G_URI_FLAGS_NONE, nullptr);
    const char *scheme = cb ? g_uri_get_scheme(cb) : nullptr;
    if (!cb || (g_strcmp0(scheme, "https") != 0 && g_strcmp0(scheme, "http") != 0))
      result.errors.push_back(
          {12200, "statusCallback '" + result.stream.status_callback + "' is not an absolute http(s) URL"});
    if (cb)
      g_uri_unref(cb);
  }
  if (!result.stream.status_callback_method.empty() &&
      result.stream.status_callback_method != "GET" && result.stream.status_callback_method != "POST")
    result.errors.push_back({12200, "statusCallbackMethod must be GET or POST"});
  return result;
}

}  // namespace clawvoice::test::twilio_emu
