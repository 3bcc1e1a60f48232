/* satokenctl: token mint's workload options, and --self --key (the
 * client half of daemon/ops_self.c: ask a challenge, sign, send). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ctl.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"

#define SELF_MAGIC	"satoken-self-v1\n"
#define KEY_FILE_MAX	16384

int
req_workload_opts(json_t *req, const struct opts *o)
{
	uint64_t pid;
	int r;

	if (o->canary && json_object_set_new(req, "canary", json_true()) != 0)
		return ctl_nomem();
	if (o->bind_pid == NULL)
		return 0;
	if (parse_u64(o->bind_pid, 1, UINT32_MAX, &pid) != 0)
		return ctl_error("VALIDATION", "--bind-pid '%s': expected a "
		    "process id", o->bind_pid);
	if ((r = req_int(req, "bind_pid", pid)) != 0)
		return r;
	return 0;
}

/* The private key in file: PEM, Ed25519 or EC P-256 (the daemon checks
 * the signature against the account's public key; any other key simply
 * does not verify). */
static EVP_PKEY *
load_key(const char *file)
{
	EVP_PKEY *k = NULL;
	char *pem = NULL;
	size_t len = 0;
	BIO *b;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		ctl_error("VALIDATION", "--key %s: %s", file, strerror(errno));
		return NULL;
	}
	if (fileio_slurp(fd, KEY_FILE_MAX, &pem, &len) != 0) {
		close(fd);
		ctl_error("VALIDATION", "--key %s: unreadable or larger than "
		    "%d bytes", file, KEY_FILE_MAX);
		return NULL;
	}
	close(fd);
	if ((b = BIO_new_mem_buf(pem, (int)len)) != NULL) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	sat_freezero(pem, len);
	ERR_clear_error();
	if (k == NULL)
		ctl_error("VALIDATION", "--key %s: not a PEM private key "
		    "(unencrypted)", file);
	return k;
}

/* base64 of the key's signature over n bytes of msg; caller frees. */
static char *
sign_b64(EVP_PKEY *k, const char *msg, size_t n)
{
	unsigned char sig[256];
	size_t slen = sizeof(sig);
	EVP_MD_CTX *ctx;
	char *out = NULL;
	int ok, is_ed;

	is_ed = EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	ok = EVP_DigestSignInit(ctx, NULL, is_ed ? NULL : EVP_sha256(), NULL,
	    k) == 1 && EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)msg,
	    n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (ok && (out = malloc(4 * ((slen + 2) / 3) + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)out, sig, (int)slen);
	return out;
}

int
ctl_self_sign(struct ctl *c, json_t *req, const struct opts *o)
{
	json_t *ch = NULL, *reply = NULL;
	const char *line, *nonce;
	char *body = NULL, *msg = NULL, *sig = NULL;
	EVP_PKEY *k = NULL;
	size_t n;
	int r;

	if (!o->self && o->key == NULL)
		return 0;
	if (!o->self || o->key == NULL)
		return ctl_error("VALIDATION", "--self and --key PRIVATE.pem go "
		    "together");
	if (c->token_file != NULL)
		return ctl_error("VALIDATION", "--self signs as the account: "
		    "not with --token-file");
	if ((k = load_key(o->key)) == NULL)
		return EXIT_VALIDATION;
	if ((ch = req_new("self.challenge")) == NULL) {
		r = ctl_nomem();
		goto out;
	}
	if ((r = ctl_call(c, ch, &reply, &line)) != 0)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		r = ctl_reply_error(c, reply, line);
		goto out;
	}
	if ((nonce = json_string_value(json_object_get(reply, "nonce"))) ==
	    NULL) {
		r = ctl_error("INTERNAL", "the daemon gave no challenge");
		goto out;
	}
	/* what the daemon checks: the request as sent, keys sorted */
	if (c->wait_ms > 0 && json_object_set_new(req, "confirm",
	    json_true()) != 0) {
		r = ctl_nomem();
		goto out;
	}
	if ((body = json_dumps(req, JSON_SORT_KEYS | JSON_COMPACT)) == NULL) {
		r = ctl_nomem();
		goto out;
	}
	n = strlen(SELF_MAGIC) + strlen(nonce) + 1 + strlen(body);
	if ((msg = malloc(n + 1)) == NULL) {
		r = ctl_nomem();
		goto out;
	}
	snprintf(msg, n + 1, "%s%s\n%s", SELF_MAGIC, nonce, body);
	if ((sig = sign_b64(k, msg, n)) == NULL) {
		r = ctl_error("INTERNAL", "cannot sign with --key %s", o->key);
		goto out;
	}
	r = req_str(req, "signature", sig);
out:
	free(sig);
	free(msg);
	free(body);
	if (ch != NULL)
		json_decref(ch);
	if (reply != NULL)
		json_decref(reply);
	EVP_PKEY_free(k);
	return r;
}
