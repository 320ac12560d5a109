#include "routes/sip/rtp_ports.h"

namespace clawvoice::launcher::sip {

RtpPorts::RtpPorts(std::string host, guint16 first, guint16 last)
    : host_(std::move(host)), first_(first), last_(last < first ? first : last), next_(first)
{
}

GSocket *RtpPorts::acquire(guint16 *port, std::string *error)
{
  GInetAddress *inet = g_inet_address_new_from_string(host_.c_str());
  if (!inet) {
    *error = "'" + host_ + "' is not an IP address";
    return nullptr;
  }
  GSocketFamily family = g_inet_address_get_family(inet);
  std::lock_guard<std::mutex> lock(lock_);
  guint span = (guint) last_ - first_ + 1;
  GSocket *socket = nullptr;
  std::string last_error = "every port is in use";
  for (guint tried = 0; tried < span && !socket; tried++) {
    guint16 candidate = next_;
    next_ = next_ == last_ ? first_ : next_ + 1;
    if (used_.count(candidate))
      continue;
    GError *gerror = nullptr;
    GSocket *s = g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &gerror);
    if (!s) {
      last_error = gerror->message;
      g_error_free(gerror);
      break;
    }
    GSocketAddress *address = g_inet_socket_address_new(inet, candidate);
    if (g_socket_bind(s, address, FALSE, &gerror)) {   /* no SO_REUSEADDR: a port someone holds is skipped */
      socket = s;
      *port = candidate;
      used_.insert(candidate);
    } else {
      last_error = gerror->message;
      g_clear_error(&gerror);
      g_object_unref(s);
    }
    g_object_unref(address);
  }
  g_object_unref(inet);
  if (!socket)
    *error = "no free RTP port in " + std::to_string(first_) + "-" + std::to_string(last_) + " (" + last_error + ")";
  return socket;
}

void RtpPorts::release(guint16 port)
{
  std::lock_guard<std::mutex> lock(lock_);
  used_.erase(port);
}

size_t RtpPorts::in_use() const
{
  std::lock_guard<std::mutex> lock(lock_);
  return used_.size();
}

}  // namespace clawvoice::launcher::sip
