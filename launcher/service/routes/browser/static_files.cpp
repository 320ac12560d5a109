#include "routes/browser/static_files.h"

#include "http_server.h"

namespace clawvoice::launcher {

std::string resolve_web_root(const std::string &configured)
{
  if (!configured.empty())
    return configured;
  const char *env = g_getenv("CLAWVOICE_WEB_DIR");
  if (env && *env)
    return env;
  if (g_file_test(CLAWVOICE_SOURCE_WEB_DIR, G_FILE_TEST_IS_DIR))
    return CLAWVOICE_SOURCE_WEB_DIR;
  return CLAWVOICE_INSTALLED_WEB_DIR;
}

static const char *content_type_of(const std::string &name)
{
  static const struct { const char *suffix, *type; } types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".webmanifest", "application/manifest+json"},
  };
  for (const auto &t : types)
    if (g_str_has_suffix(name.c_str(), t.suffix))
      return t.type;
  return nullptr;
}

void serve_static_file(SoupServerMessage *message, const std::string &root, const std::string &path)
{
  const char *method = soup_server_message_get_method(message);
  if (g_strcmp0(method, "GET") != 0 && g_strcmp0(method, "HEAD") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  std::string name = path == "/" ? "index.html" : path.substr(1);
  const char *type = content_type_of(name);
  bool plain = !name.empty() && name[0] != '.' && name.find('/') == std::string::npos &&
               name.find('\\') == std::string::npos;
  gchar *contents = nullptr;
  gsize length = 0;
  if (!plain || !type || !g_file_get_contents((root + "/" + name).c_str(), &contents, &length, nullptr)) {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  std::string body(contents, length);
  g_free(contents);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
  /* The page talks to its own origin (the API and the signalling socket) and, in the direct mode, to
   * OpenAI's calls endpoint, or the embedded simulator's on a loopback address (docs/openai.md). */
  soup_message_headers_replace(headers, "Content-Security-Policy",
                               "default-src 'self'; connect-src 'self' ws: wss: https://api.openai.com "
                               "http://127.0.0.1:* http://localhost:*; img-src 'self' data:");
  respond(message, SOUP_STATUS_OK, type, body);
}

}  // namespace clawvoice::launcher
