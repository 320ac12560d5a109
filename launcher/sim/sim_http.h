/* clawvoice-sim — small helpers its HTTP endpoints share. */
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace clawvoice::sim {

/* The token of `Authorization: Bearer <token>` (trimmed), or "" when there is none. */
inline std::string bearer_of(SoupServerMessage *msg)
{
  const char *auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (!auth || g_ascii_strncasecmp(auth, "Bearer ", 7) != 0)
    return "";
  g_autofree char *key = g_strstrip(g_strdup(auth + 7));
  return key;
}

}  // namespace clawvoice::sim
