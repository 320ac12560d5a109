#include "routes/browser/dtls_certificate.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>

namespace clawvoice::launcher {

namespace {
template <typename T, void (*Free)(T *)>
struct OpensslFree {
  void operator()(T *p) const { Free(p); }
};
template <typename T, void (*Free)(T *)>
using OpensslPtr = std::unique_ptr<T, OpensslFree<T, Free>>;
}  // namespace

DtlsCertificate make_dtls_certificate(std::string *error)
{
  OpensslPtr<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  OpensslPtr<X509, X509_free> cert(X509_new());
  if (!key || !cert) {
    *error = "cannot make a key pair";
    return {};
  }
  /* What browsers expect of a WebRTC certificate: self-signed, a random serial, a short life. */
  X509_set_version(cert.get(), 2);
  unsigned char serial[8];
  RAND_bytes(serial, sizeof serial);
  OpensslPtr<BIGNUM, BN_free> serial_bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_NAME *name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "clawvoice", -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) {
    *error = "cannot sign the certificate";
    return {};
  }
  OpensslPtr<BIO, BIO_free_all> out(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(out.get(), cert.get()) ||
      !PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    *error = "cannot write the certificate";
    return {};
  }
  char *data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  X509_digest(cert.get(), EVP_sha256(), digest, &digest_size);
  std::string fingerprint = "sha-256 ";
  for (unsigned int i = 0; i < digest_size; i++) {
    char hex[4];
    snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", digest[i]);
    fingerprint += hex;
  }
  return {std::string(data, (size_t) size), fingerprint};
}

}  // namespace clawvoice::launcher
