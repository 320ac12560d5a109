/* clawvoice-launcher — the voice page's files (web/), served by the browser route.
 *
 * GET/HEAD only, files directly inside the web root (no sub-directories, no dot files, no "..") with
 * a content type from a short list: the page is plain HTML/CSS/JS and nothing else is served. */
#pragma once

#include <libsoup/soup.h>

#include <string>

namespace clawvoice::launcher {

/* The web root: @configured if set, else $CLAWVOICE_WEB_DIR, else the source tree's web/, else
 * the installed one. */
std::string resolve_web_root(const std::string &configured);

/* Answers @message for @path ("/" is index.html) from @root: 200, 404 or 405. */
void serve_static_file(SoupServerMessage *message, const std::string &root, const std::string &path);

}  // namespace clawvoice::launcher
