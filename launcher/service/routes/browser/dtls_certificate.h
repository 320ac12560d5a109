/* clawvoice-launcher — a fresh DTLS certificate for a webrtcbin that must not share the process's.
 *
 * GStreamer's dtlsdec gives every webrtcbin of a process the same generated certificate. A browser
 * only restarts DTLS when the fingerprint in a new answer changes, so the webrtcbin that answers an
 * ICE restart (BrowserSession::replace_webrtcbin) needs a certificate of its own. */
#pragma once

#include <string>

namespace clawvoice::launcher {

struct DtlsCertificate {
  std::string pem;           /* the certificate, then its private key (what dtlsdec's `pem` takes) */
  std::string fingerprint;   /* "sha-256 AB:CD:…", of the certificate alone, as SDP's a=fingerprint */
};

/* A self-signed ECDSA P-256 certificate, valid for 30 days. Empty, with @error set, if OpenSSL fails.
 *
 * The answer's a=fingerprint must be replaced with `fingerprint`: webrtcbin 1.22 hashes every
 * base64 line of the PEM it is given, so with the key in it its own fingerprint is wrong (a browser
 * then refuses the certificate: "mismatched digest"). GStreamer's own generated certificates carry
 * no key in their PEM, which is why this never shows with them. */
DtlsCertificate make_dtls_certificate(std::string *error);

}  // namespace clawvoice::launcher
