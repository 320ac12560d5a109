/* clawvoice-launcher — who may call the SIP route by source address: IP addresses and CIDR blocks
 * (routes.sip.allow). An empty list lets every address through (digest users may still apply). */
#pragma once

#include <gio/gio.h>

#include <string>
#include <vector>

namespace clawvoice::launcher::sip {

class AddressAllowlist {
 public:
  /* Entries were validated by the config parser; one that does not parse is skipped. */
  explicit AddressAllowlist(const std::vector<std::string> &entries);
  ~AddressAllowlist();
  AddressAllowlist(const AddressAllowlist &) = delete;
  AddressAllowlist &operator=(const AddressAllowlist &) = delete;

  bool empty() const { return masks_.empty(); }
  /* @address: "192.0.2.7", "::1" (no port). */
  bool allows(const std::string &address) const;

 private:
  std::vector<GInetAddressMask *> masks_;
};

}  // namespace clawvoice::launcher::sip
