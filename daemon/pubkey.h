/* satokend: an account's optional public key, checked with OpenSSL.
 * PEM (SubjectPublicKeyInfo), EC P-256 or Ed25519 only. */
#ifndef SATOKEND_PUBKEY_H
#define SATOKEND_PUBKEY_H

#include <stddef.h>

#define PUBKEY_PEM_MAX	16384
#define PUBKEY_FP_MAX	64	/* "SHA256:" + 43 base64 + NUL */

/* Parses pem; on success *ret_pem is the key re-encoded canonically
 * (malloc'd, caller frees).  SAT_E_INVALID with a reason in err for
 * anything else (not PEM, a private key, RSA, another curve...). */
int pubkey_check(const char *pem, char **ret_pem, char *err, size_t errlen);

/* "SHA256:<base64 of the DER key, unpadded>" as OpenSSH prints, and the
 * key type ("ec-p256" or "ed25519").  SAT_E_INVALID if pem is not a key
 * pubkey_check accepts. */
int pubkey_describe(const char *pem, char fp[PUBKEY_FP_MAX],
    const char **ret_type);

/* Checks sig_b64 (base64: Ed25519's 64 bytes, or an ECDSA P-256
 * signature in DER over SHA-256) over the n bytes of msg with the
 * account's public key pem.  0 when it verifies; SAT_E_PERM when it
 * does not or is not base64; SAT_E_INVALID if pem is not a key
 * pubkey_check accepts; SAT_E_NOMEM. */
int pubkey_verify(const char *pem, const void *msg, size_t n,
    const char *sig_b64);

#endif
