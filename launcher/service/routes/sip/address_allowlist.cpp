#include "routes/sip/address_allowlist.h"

namespace clawvoice::launcher::sip {

AddressAllowlist::AddressAllowlist(const std::vector<std::string> &entries)
{
  for (const std::string &entry : entries) {
    /* "192.0.2.7" parses as a /32 mask, "10.0.0.0/8" as a block. */
    GInetAddressMask *mask = g_inet_address_mask_new_from_string(entry.c_str(), nullptr);
    if (mask)
      masks_.push_back(mask);
  }
}

AddressAllowlist::~AddressAllowlist()
{
  for (GInetAddressMask *mask : masks_)
    g_object_unref(mask);
}

bool AddressAllowlist::allows(const std::string &address) const
{
  if (masks_.empty())
    return true;
  GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
  if (!inet)
    return false;
  bool ok = false;
  for (GInetAddressMask *mask : masks_)
    if (g_inet_address_mask_matches(mask, inet))
      ok = true;
  g_object_unref(inet);
  return ok;
}

}  // namespace clawvoice::launcher::sip
