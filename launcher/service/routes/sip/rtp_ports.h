/* clawvoice-launcher — the RTP port of each SIP call, from a configured range.
 *
 * A call's port is a bound UDP socket, taken before the SDP answer is written (so the answer never
 * names a port someone else holds) and shared by the call's udpsrc and udpsink: we send from the
 * port we advertised (symmetric RTP). Ports are handed out round-robin so a port just released is
 * not reused at once (late packets of the old call must not reach the new one). Thread-safe. */
#pragma once

#include <gio/gio.h>

#include <mutex>
#include <set>
#include <string>

namespace clawvoice::launcher::sip {

class RtpPorts {
 public:
  RtpPorts(std::string host, guint16 first, guint16 last);

  /* A socket bound to HOST:port for some free port of the range (a new reference), or nullptr
   * (and *error) when every port is taken. */
  GSocket *acquire(guint16 *port, std::string *error);
  void release(guint16 port);
  size_t in_use() const;

 private:
  std::string host_;
  guint16 first_, last_;
  guint16 next_;
  mutable std::mutex lock_;
  std::set<guint16> used_;
};

}  // namespace clawvoice::launcher::sip
