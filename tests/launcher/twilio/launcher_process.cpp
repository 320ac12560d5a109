#include "launcher_process.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

namespace clawvoice::test::launcher {

std::string launcher_binary()
{
  return CLAWVOICE_LAUNCHER_BIN;
}

std::string data_path(const std::string &name)
{
  return std::string(CLAWVOICE_TEST_DATA_DIR) + "/" + name;
}

guint16 free_udp_port()
{
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *a = g_inet_socket_address_new(lo, 0);
  g_socket_bind(s, a, FALSE, nullptr);
  GSocketAddress *bound = g_socket_get_local_address(s, nullptr);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(a);
  g_object_unref(lo);
  g_object_unref(s);
  return port;
}

guint16 free_udp_port_run(guint count)
{
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  guint16 found = 0;
  for (int attempt = 0; attempt < 64 && !found; attempt++) {
    guint16 first = free_udp_port() & ~1u;   /* even, as RTP ports go */
    if (first < 1024 || first > 65535 - count)
      continue;
    /* Hold them all at once, so none is taken between two checks of ours. */
    std::vector<GSocket *> held;
    for (guint i = 0; i < count; i++) {
      GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
      GSocketAddress *a = g_inet_socket_address_new(lo, (guint16) (first + i));
      bool bound = s && g_socket_bind(s, a, FALSE, nullptr);
      g_object_unref(a);
      if (s)
        held.push_back(s);
      if (!bound)
        break;
      if (i + 1 == count)
        found = first;
    }
    for (GSocket *s : held)
      g_object_unref(s);
  }
  g_object_unref(lo);
  return found;
}

std::string json_string(const std::string &json, const char *key)
{
  JsonParser *parser = json_parser_new();
  std::string out;
  if (json_parser_load_from_data(parser, json.data(), json.size(), nullptr) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    JsonNode *node = json_object_get_member(o, key);
    if (node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
      out = json_node_get_string(node);
  }
  g_object_unref(parser);
  return out;
}

bool LauncherProcess::write_config(const std::string &config_json, std::string *path)
{
  GError *error = nullptr;
  gchar *dir = g_dir_make_tmp("clawvoice-launcher-test-XXXXXX", &error);
  if (!dir) {
    start_error_ = error->message;
    g_error_free(error);
    return false;
  }
  dir_ = dir;
  g_free(dir);
  *path = dir_ + "/config.jsonc";
  if (!g_file_set_contents(path->c_str(), config_json.c_str(), -1, &error)) {
    start_error_ = error->message;
    g_error_free(error);
    return false;
  }
  return true;
}

LauncherProcess::LauncherProcess(const std::string &config_json)
{
  GError *error = nullptr;
  const std::string binary = launcher_binary();
  std::vector<const char *> argv = {binary.c_str(), "--listen", "127.0.0.1:0"};
  std::string config_path;
  if (!config_json.empty() && !write_config(config_json, &config_path))
    return;
  if (!config_path.empty()) {
    argv.push_back("--config");
    argv.push_back(config_path.c_str());
  }
  argv.push_back(nullptr);
  int out_fd = -1, err_fd = -1;
  /* The launcher must not find plugins elsewhere: it registers its own statically. */
  gchar **envp = g_get_environ();
  envp = g_environ_setenv(envp, "GST_REGISTRY_FORK", "no", TRUE);
  if (!g_spawn_async_with_pipes(nullptr, const_cast<gchar **>(argv.data()), envp, G_SPAWN_DO_NOT_REAP_CHILD,
                                nullptr, nullptr, &pid_, nullptr, &out_fd, &err_fd, &error)) {
    start_error_ = std::string("cannot start ") + binary + ": " + error->message;
    g_error_free(error);
    g_strfreev(envp);
    return;
  }
  g_strfreev(envp);
  readers_.emplace_back([this, out_fd]() { read_lines(out_fd); });
  readers_.emplace_back([this, err_fd]() { read_lines(err_fd); });

  /* The port comes in the launcher.started line. */
  std::unique_lock<std::mutex> lock(mutex_);
  bool ok = changed_.wait_for(lock, std::chrono::seconds(20), [&]() {
    for (const auto &line : lines_) {
      if (json_string(line, "event") == "launcher.started") {
        std::string listen = json_string(line, "listen");
        size_t colon = listen.rfind(':');
        if (colon != std::string::npos)
          port_ = static_cast<guint>(g_ascii_strtoull(listen.c_str() + colon + 1, nullptr, 10));
        return true;
      }
    }
    return exited_ || readers_done_ == 2;   /* it died before starting */
  });
  if (!ok || port_ == 0) {
    start_error_ = "the launcher did not start; its output:\n";
    for (const auto &line : lines_)
      start_error_ += line + "\n";
  }
}

LauncherProcess::~LauncherProcess()
{
  stop();
  for (auto &t : readers_)
    t.join();
  if (!dir_.empty()) {
    g_remove((dir_ + "/config.jsonc").c_str());
    g_rmdir(dir_.c_str());
  }
}

void read_lines_of(int fd, const std::function<void(std::string)> &on_line)
{
  FILE *stream = fdopen(fd, "r");
  char *line = nullptr;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stream)) >= 0) {
    std::string text(line, len);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
      text.pop_back();
    on_line(std::move(text));
  }
  free(line);
  fclose(stream);
}

int terminate_child(GPid pid, guint grace_ms)
{
  kill(pid, SIGTERM);
  int status = 0;
  const gint64 give_up = g_get_monotonic_time() + grace_ms * 1000;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < give_up)
    g_usleep(20000);
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void LauncherProcess::read_lines(int fd)
{
  read_lines_of(fd, [this](std::string text) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(std::move(text));
    }
    changed_.notify_all();
  });
  {
    std::lock_guard<std::mutex> lock(mutex_);
    readers_done_++;
  }
  changed_.notify_all();
}

bool LauncherProcess::running() const
{
  return pid_ > 0 && !exited_ && kill(pid_, 0) == 0;
}

int LauncherProcess::stop(guint grace_ms)
{
  if (pid_ <= 0 || exited_)
    return exit_status_;
  exit_status_ = terminate_child(pid_, grace_ms);
  g_spawn_close_pid(pid_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    exited_ = true;
  }
  changed_.notify_all();
  return exit_status_;
}

std::string LauncherProcess::url(const std::string &path) const
{
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<std::string> LauncherProcess::lines() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_;
}

std::vector<std::string> LauncherProcess::events(const std::string &event) const
{
  std::vector<std::string> out;
  for (const auto &line : lines())
    if (line.find(event) != std::string::npos && json_string(line, "event") == event)
      out.push_back(line);
  return out;
}

bool LauncherProcess::wait_for_event(const std::string &event, guint timeout_ms, size_t count) const
{
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&]() {
    size_t n = 0;
    for (const auto &line : lines_)
      if (line.find(event) != std::string::npos && json_string(line, "event") == event)
        n++;
    return n >= count;
  });
}

bool LauncherProcess::wait_for_output(const std::string &text, guint timeout_ms) const
{
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&]() {
    for (const auto &line : lines_)
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  });
}

bool LauncherProcess::output_contains(const std::string &text) const
{
  for (const auto &line : lines())
    if (line.find(text) != std::string::npos)
      return true;
  return false;
}

namespace {
HttpAnswer request(const char *method, const std::string &url, const std::string &bearer,
                   const std::string &json_body = "")
{
  HttpAnswer answer;
  GMainContext *context = g_main_context_new();
  g_main_context_push_thread_default(context);
  SoupSession *session = soup_session_new_with_options("timeout", 10, nullptr);
  SoupMessage *msg = soup_message_new(method, url.c_str());
  if (!bearer.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                 ("Bearer " + bearer).c_str());
  if (!json_body.empty()) {
    GBytes *bytes = g_bytes_new(json_body.data(), json_body.size());
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
    g_bytes_unref(bytes);
  }
  GError *error = nullptr;
  GBytes *body = soup_session_send_and_read(session, msg, nullptr, &error);
  if (error) {
    answer.error = error->message;
    g_error_free(error);
  } else {
    answer.status = soup_message_get_status(msg);
    const char *type =
        soup_message_headers_get_content_type(soup_message_get_response_headers(msg), nullptr);
    answer.content_type = type ? type : "";
    gsize len = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(body, &len));
    answer.body.assign(data ? data : "", len);
  }
  if (body)
    g_bytes_unref(body);
  g_object_unref(msg);
  g_object_unref(session);
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  return answer;
}
}  // namespace

HttpAnswer LauncherProcess::get(const std::string &path, const std::string &bearer) const
{
  return request("GET", url(path), bearer);
}

HttpAnswer LauncherProcess::del(const std::string &path, const std::string &bearer) const
{
  return request("DELETE", url(path), bearer);
}

HttpAnswer LauncherProcess::post_json(const std::string &path, const std::string &bearer, const std::string &json) const
{
  return request("POST", url(path), bearer, json);
}

}  // namespace clawvoice::test::launcher
