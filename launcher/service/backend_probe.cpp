#include "backend_probe.h"

#include <gio/gio.h>

namespace clawvoice::launcher {

static constexpr gint64 kProbeEveryUs = 15 * G_USEC_PER_SEC;

BackendProbe::BackendProbe(std::shared_ptr<net::NetThread> thread, std::string kind, std::string url)
    : thread_(std::move(thread)), kind_(std::move(kind)), url_(std::move(url))
{
  cancellable_ = g_cancellable_new();
  std::lock_guard<std::mutex> lock(lock_);
  probe();
}

BackendProbe::~BackendProbe()
{
  thread_->invoke_sync([this]() {
    *alive_ = false;
    g_cancellable_cancel(cancellable_);
  });
  g_object_unref(cancellable_);
}

bool BackendProbe::reachable(std::string *detail)
{
  std::lock_guard<std::mutex> lock(lock_);
  if (!probing_ && g_get_monotonic_time() - last_probe_us_ > kProbeEveryUs)
    probe();
  *detail = detail_;
  return reachable_;
}

/* Called with lock_ held. */
void BackendProbe::probe()
{
  probing_ = true;
  last_probe_us_ = g_get_monotonic_time();
  std::shared_ptr<bool> alive = alive_;
  thread_->invoke([this, alive]() {
    if (!*alive)
      return;
    GSocketClient *client = g_socket_client_new();
    g_socket_client_set_timeout(client, 5);
    /* ws(s):// is not a scheme GIO knows a default port for: give it one. */
    bool secure = g_str_has_prefix(url_.c_str(), "wss:") || g_str_has_prefix(url_.c_str(), "https:");
    struct Probe { BackendProbe *self; std::shared_ptr<bool> alive; };
    g_socket_client_connect_to_uri_async(client, url_.c_str(), secure ? 443 : 80, cancellable_,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          auto *probe = static_cast<Probe *>(data);
          GError *error = nullptr;
          GSocketConnection *connection =
              g_socket_client_connect_to_uri_finish(G_SOCKET_CLIENT(source), result, &error);
          if (*probe->alive) {
            std::lock_guard<std::mutex> lock(probe->self->lock_);
            probe->self->probing_ = false;
            probe->self->reachable_ = connection != nullptr;
            probe->self->detail_ = connection ? "" : (error ? error->message : "unreachable");
          }
          if (connection) {
            g_io_stream_close(G_IO_STREAM(connection), nullptr, nullptr);
            g_object_unref(connection);
          }
          g_clear_error(&error);
          g_object_unref(source);
          delete probe;
        },
        new Probe{this, alive});
  });
}

}  // namespace clawvoice::launcher
