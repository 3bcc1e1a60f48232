#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"

#define AUDIT_LINE_MAX	2048

enum sink { SINK_SYSLOG, SINK_STDERR, SINK_FILE };

struct audit {
	enum sink sink;
	int fd;			/* SINK_FILE: owned; SINK_STDERR: 2 */
	char ident[32];
};

static int
needs_quotes(const char *s)
{
	const unsigned char *p;

	if (*s == '\0')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '=' || *p == '"' ||
		    *p == '\\')
			return 1;
	return 0;
}

size_t
audit_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t n = 0;
	char esc[5];
	size_t el, i;
	int q;

	if (cap == 0)
		return 0;
	if (in == NULL)
		in = "";
	q = needs_quotes(in);
	if (q && n + 1 < cap)
		out[n++] = '"';
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			el = 2;
		} else if (*p < ' ' || *p >= 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*p >> 4];
			esc[3] = hex[*p & 0xf];
			el = 4;
		} else {
			esc[0] = (char)*p;
			el = 1;
		}
		/* keep room for the closing quote and the NUL */
		if (n + el + (q ? 1 : 0) + 1 > cap)
			break;
		for (i = 0; i < el; i++)
			out[n++] = esc[i];
	}
	if (q && n + 1 < cap)
		out[n++] = '"';
	out[n] = '\0';
	return n;
}

size_t
audit_format(const struct audit_event *ev, char *out, size_t cap)
{
	const struct { const char *key, *value; } f[] = {
		{ "action", ev->action }, { "outcome", ev->outcome },
		{ "reason", ev->reason }, { "principal", ev->principal },
		{ "role", ev->role }, { "account", ev->account },
		{ "group", ev->group }, { "token", ev->token },
		{ "name", ev->name }, { "service", ev->service },
		{ "rhost", ev->rhost }, { "detail", ev->detail },
	};
	char val[AUDIT_LINE_MAX];
	size_t n = 0, i, kl, vl;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].value == NULL)
			continue;
		vl = audit_escape(f[i].value, val, sizeof(val));
		kl = strlen(f[i].key);
		/* a field that does not fit is dropped whole, never cut */
		if (n + (n > 0) + kl + 1 + vl + 1 > cap)
			break;
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, f[i].key, kl);
		n += kl;
		out[n++] = '=';
		memcpy(out + n, val, vl);
		n += vl;
		out[n] = '\0';
	}
	return n;
}

int
audit_open(const char *spec, const char *ident, struct audit **ret)
{
	struct audit *a;
	int r;

	if (spec == NULL || ident == NULL)
		return SAT_E_INVALID;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return SAT_E_NOMEM;
	a->fd = -1;
	snprintf(a->ident, sizeof(a->ident), "%s", ident);
	if (strcmp(spec, "syslog") == 0) {
		a->sink = SINK_SYSLOG;
	} else if (strcmp(spec, "stderr") == 0) {
		a->sink = SINK_STDERR;
		a->fd = STDERR_FILENO;
	} else if (strncmp(spec, "file:", 5) == 0) {
		a->sink = SINK_FILE;
		r = fileio_open(spec + 5, O_WRONLY | O_APPEND | O_CREAT, 0600,
		    FILEIO_REGULAR | FILEIO_NOT_WRITABLE, &a->fd);
		if (r != 0) {
			free(a);
			return r;
		}
	} else {
		free(a);
		return SAT_E_CONFIG;
	}
	*ret = a;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->sink == SINK_FILE && a->fd >= 0)
		close(a->fd);
	free(a);
}

int
audit_emit(struct audit *a, const struct audit_event *ev)
{
	char line[AUDIT_LINE_MAX], out[AUDIT_LINE_MAX + 128], ts[32];
	int n;

	if (a == NULL || ev == NULL)
		return SAT_E_INVALID;
	audit_format(ev, line, sizeof(line));
	if (a->sink == SINK_SYSLOG) {
		int prio = ev->outcome != NULL && strcmp(ev->outcome, "ok") == 0 ?
		    LOG_INFO : LOG_NOTICE;
		syslog(LOG_AUTHPRIV | prio, "%s", line);
		return 0;
	}
	format_time((int64_t)time(NULL), ts, sizeof(ts));
	n = snprintf(out, sizeof(out), "%s %s[%ld]: %s\n", ts, a->ident,
	    (long)getpid(), line);
	if (n < 0 || (size_t)n >= sizeof(out))
		return SAT_E_INTERNAL;
	/* one write(2) per line: O_APPEND keeps concurrent writers' lines whole */
	return fileio_write_all(a->fd, out, (size_t)n);
}
