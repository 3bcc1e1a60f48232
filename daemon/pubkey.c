#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "err.h"
#include "mem.h"
#include "pubkey.h"

/* Reads exactly one public key and its type; NULL if not acceptable. */
static EVP_PKEY *
load(const char *pem, const char **ret_type, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	BIO *b;
	char group[64];
	size_t glen = 0;

	if (pem == NULL || strlen(pem) > PUBKEY_PEM_MAX) {
		snprintf(err, errlen, "public key too large");
		return NULL;
	}
	if ((b = BIO_new_mem_buf(pem, -1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();	/* a refused key must not leave errors queued */
	if (k == NULL) {
		snprintf(err, errlen,
		    "public key is not a PEM public key (BEGIN PUBLIC KEY)");
		return NULL;
	}
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519) {
		*ret_type = "ed25519";
		return k;
	}
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)) {
		*ret_type = "ec-p256";
		return k;
	}
	snprintf(err, errlen, "public key must be EC P-256 or Ed25519");
	EVP_PKEY_free(k);
	return NULL;
}

int
pubkey_check(const char *pem, char **ret_pem, char *err, size_t errlen)
{
	const char *type;
	EVP_PKEY *k;
	BIO *b = NULL;
	BUF_MEM *mem = NULL;
	char *out;
	int r = SAT_E_INVALID;

	if ((k = load(pem, &type, err, errlen)) == NULL)
		return SAT_E_INVALID;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, k) != 1 || BIO_get_mem_ptr(b, &mem) != 1 ||
	    mem == NULL) {
		snprintf(err, errlen, "public key cannot be encoded");
		r = SAT_E_CRYPTO;
		goto out;
	}
	if ((out = sat_strndup(mem->data, mem->length)) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	*ret_pem = out;
	r = 0;
out:
	BIO_free(b);
	EVP_PKEY_free(k);
	return r;
}

int
pubkey_verify(const char *pem, const void *msg, size_t n, const char *sig_b64)
{
	unsigned char sig[256];
	const char *type;
	char err[128];
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k;
	size_t blen = strlen(sig_b64), pad = 0;
	int len, r = SAT_E_PERM;

	/* 4/3 of a DER ECDSA signature (at most 72 bytes) fits easily */
	if (blen == 0 || blen % 4 != 0 || blen > 4 * sizeof(sig) / 3)
		return SAT_E_PERM;
	if ((len = EVP_DecodeBlock(sig, (const unsigned char *)sig_b64,
	    (int)blen)) < 0)
		return SAT_E_PERM;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	while (pad < 2 && sig_b64[blen - 1 - pad] == '=')
		pad++;
	len -= (int)pad;
	if ((k = load(pem, &type, err, sizeof(err))) == NULL)
		return SAT_E_INVALID;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = SAT_E_NOMEM;
		goto out;
	}
	/* Ed25519 hashes by itself; P-256 signs SHA-256 */
	if (EVP_DigestVerifyInit(ctx, NULL, strcmp(type, "ed25519") == 0 ?
	    NULL : EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, (size_t)len, msg, n) == 1)
		r = 0;
out:
	ERR_clear_error();	/* a refused signature leaves nothing queued */
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

int
pubkey_describe(const char *pem, char fp[PUBKEY_FP_MAX], const char **ret_type)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE], b64[80];
	unsigned int mdlen = 0;
	char err[128];
	EVP_PKEY *k;
	int n, len;

	if ((k = load(pem, ret_type, err, sizeof(err))) == NULL)
		return SAT_E_INVALID;
	len = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (len <= 0)
		return SAT_E_INVALID;
	n = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (n != 1)
		return SAT_E_CRYPTO;
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(fp, PUBKEY_FP_MAX, "SHA256:%.50s", b64);
	return 0;
}
