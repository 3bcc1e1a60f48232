/* libFuzzer target: the daemon's request parser (daemon/proto.c), the
 * first code that touches bytes from any local user on the socket.
 * Whatever the line, proto_parse either fills a request whose op is
 * known and whose required fields are all there, or fails VALIDATION
 * with a message; the error reply it leads to serialises as one line;
 * nothing reads past the line, nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/ops.h"
#include "../../daemon/proto.h"
#include "err.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void dlog(int prio, const char *fmt, ...);

/* the op table links a control host's directory writer (control.c),
 * which logs through satokend's dlog; parsing never reaches it */
void
dlog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request rq;
	char err[256], *line, *out = NULL;
	size_t n;
	json_t *reply;
	int r;

	if (size > PROTO_LINE_MAX)
		return 0;	/* conn.c cuts the connection before parsing */
	/* an exact-size copy: ASan sees any read past the line */
	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	err[0] = '\0';
	r = proto_parse(line, size, &rq, err, sizeof(err));
	if (rq.op_name == NULL)
		abort();
	if (r == 0) {
		if (rq.op == NULL || rq.root == NULL ||
		    (rq.present & rq.op->required) != rq.op->required ||
		    (rq.present & ~rq.op->allowed) != 0)
			abort();
		if ((rq.present & F_ACCOUNT) && rq.account == NULL)
			abort();
		if ((rq.present & F_TOKEN) &&
		    (rq.token == NULL || strlen(rq.token) > rq.token_len))
			abort();
		if (rq.auth_token != NULL &&
		    strlen(rq.auth_token) > rq.auth_token_len)
			abort();
		proto_free(&rq);
	} else {
		if (r != SAT_E_INVALID || err[0] == '\0' ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		/* what the daemon sends back: one line, ending in '\n'
		 * (no allocation fails here, so a NULL is a message that
		 * JSON cannot carry, and the client would get no answer) */
		if ((reply = proto_error(r, err)) == NULL ||
		    proto_dump(reply, &out, &n) != 0)
			abort();
		if (n == 0 || out[n - 1] != '\n' ||
		    memchr(out, '\n', n - 1) != NULL)
			abort();
		sat_freezero(out, n);
		json_decref(reply);
	}
	free(line);
	return 0;
}
