/* satokenctl fleet status: every host of the fleet, its lag and its
 * last contact with the directory, as this host's satokend last heard;
 * and --wait, which asks it until every host has applied a change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctl.h"
#include "mem.h"

/* --wait asks every WAIT_POLL_MIN_MS for WAIT_FINE_MS (a quiet fleet
 * confirms within it: a step growing from 20 to 100 ms left up to 67 ms
 * between the last host's position and the question that saw it, half
 * of a 134 ms wait; 40 questions a second stay inside the default
 * rate_limit of 50 with room for the caller's next request), every
 * WAIT_POLL_MS until WAIT_BRISK_MS (hosts write their position at most
 * once a second, so most other waits end in there), then every
 * WAIT_POLL_MAX_MS */
#define WAIT_POLL_MIN_MS	25
#define WAIT_FINE_MS		1000
#define WAIT_POLL_MS		100
#define WAIT_BRISK_MS		5000
#define WAIT_POLL_MAX_MS	500
/* hosts named in a NOT_CONFIRMED message; the rest are counted */
#define WAIT_NAMED		10

static void
print_fleet(json_t *r)
{
	json_t *items = json_object_get(r, "items"), *h, *lag, *lc;
	time_t now = time(NULL);
	size_t i;

	printf("%-32s %10s %s\n", "HOST", "LAG", "LAST CONTACT");
	json_array_foreach(items, i, h) {
		const char *name = json_string_value(json_object_get(h, "host"));
		char ls[32], cs[32];

		lag = json_object_get(h, "lag_ms");
		lc = json_object_get(h, "last_contact");
		if (json_is_integer(lag))
			snprintf(ls, sizeof(ls), "%lldms",
			    (long long)json_integer_value(lag));
		else
			snprintf(ls, sizeof(ls), "-");
		if (json_is_integer(lc))
			snprintf(cs, sizeof(cs), "%llds ago", (long long)(now -
			    (time_t)json_integer_value(lc)));
		else
			snprintf(cs, sizeof(cs), "never");
		printf("%-32s %10s %s\n", name != NULL ? name : "?", ls, cs);
	}
}

int
c_fleet_status(struct ctl *c, const struct cmd *cmd, struct opts *o)
{
	(void)cmd;
	(void)o;
	return ctl_send(c, req_new("fleet.status"), print_fleet, NULL);
}

static void
nap_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One round: the hosts that have not applied csn, into pending (a new
 * array).  0, or the exit code after reporting why no answer came. */
static int
ask_pending(struct ctl *c, const char *csn, json_t **pending,
    size_t *nhosts, int64_t *retry_ms)
{
	json_t *req, *reply = NULL, *h;
	const char *line, *err;
	size_t i;
	int r;

	*retry_ms = 0;
	if ((req = req_new("fleet.status")) == NULL ||
	    req_str(req, "csn", csn) != 0) {
		json_decref(req);
		return ctl_nomem();
	}
	r = ctl_call(c, req, &reply, &line);
	json_decref(req);
	if (r != 0)
		return r;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		err = json_string_value(json_object_get(reply, "error"));
		if (err != NULL && strcmp(err, "THROTTLED") == 0) {
			*retry_ms = json_integer_value(json_object_get(reply,
			    "retry_after_ms"));
			if (*retry_ms < 1)
				*retry_ms = WAIT_POLL_MAX_MS;
			json_decref(reply);
			return 0;
		}
		r = ctl_reply_error(c, reply, line);
		json_decref(reply);
		return r;
	}
	if ((*pending = json_array()) == NULL) {
		json_decref(reply);
		return ctl_nomem();
	}
	*nhosts = json_array_size(json_object_get(reply, "items"));
	json_array_foreach(json_object_get(reply, "items"), i, h) {
		if (json_is_true(json_object_get(h, "confirmed")))
			continue;
		if (json_array_append(*pending, json_object_get(h, "host")) != 0) {
			json_decref(reply);
			return ctl_nomem();
		}
	}
	json_decref(reply);
	return 0;
}

static void
say_pending(json_t *pending, size_t nhosts, int64_t wait_ms)
{
	char names[WAIT_NAMED * 70 + 32];
	size_t i, n = 0, np = json_array_size(pending);
	json_t *h;

	names[0] = '\0';
	json_array_foreach(pending, i, h) {
		const char *s = json_string_value(h);

		if (i == WAIT_NAMED) {
			snprintf(names + n, sizeof(names) - n, " and %zu more",
			    np - i);
			break;
		}
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		    i > 0 ? ", " : "", s != NULL ? s : "?");
		if (n >= sizeof(names))
			break;
	}
	ctl_error("NOT_CONFIRMED", "%zu of %zu hosts had not applied the "
	    "change after %lld ms: %s (the change itself is made; "
	    "satokenctl fleet status shows their lag)", np, nhosts,
	    (long long)wait_ms, names);
}

void
ctl_wait_applied(struct ctl *c, json_t *reply)
{
	json_t *pos = json_object_get(reply, "csn"), *pending = NULL;
	const char *csn = json_string_value(pos);
	int64_t start = clock_ms(), step = WAIT_POLL_MIN_MS, retry, left;
	size_t nhosts = 0;
	int r;

	if (csn == NULL) {
		/* written, but the directory gave no position back */
		c->wait_rc = ctl_error("NOT_CONFIRMED", "the change is made, "
		    "but the directory did not say where it stands: see "
		    "satokenctl fleet status");
		(void)json_object_set_new(reply, "confirmed", json_false());
		return;
	}
	for (;;) {
		if (pending != NULL)
			json_decref(pending);
		pending = NULL;
		if ((r = ask_pending(c, csn, &pending, &nhosts, &retry)) != 0) {
			c->wait_rc = r;
			break;
		}
		if (pending != NULL && json_array_size(pending) == 0)
			break;
		left = c->wait_ms - (clock_ms() - start);
		if (left <= 0) {
			if (pending == NULL)
				c->wait_rc = ctl_error("NOT_CONFIRMED",
				    "satokend throttled every question for "
				    "%lld ms", (long long)c->wait_ms);
			else
				say_pending(pending, nhosts, c->wait_ms);
			c->wait_rc = EXIT_NOT_CONFIRMED;
			break;
		}
		nap_ms(retry > 0 ? (retry < left ? retry : left) :
		    (step < left ? step : left));
		if (clock_ms() - start > WAIT_FINE_MS)
			step = WAIT_POLL_MS;
		if (clock_ms() - start > WAIT_BRISK_MS)
			step = WAIT_POLL_MAX_MS;
	}
	(void)json_object_set_new(reply, "confirmed",
	    json_boolean(c->wait_rc == 0));
	if (pending != NULL)
		(void)json_object_set_new(reply, "pending", pending);
	if (c->wait_rc == 0 && !c->json)
		fprintf(stderr, "confirmed: all %zu hosts applied it in %lld "
		    "ms\n", nhosts, (long long)(clock_ms() - start));
}

const char *
ctl_wait_line(struct ctl *c, json_t *reply)
{
	char *s;
	size_t n;

	ctl_wait_free(c);
	if ((s = json_dumps(reply, JSON_COMPACT)) == NULL)
		return NULL;
	n = strlen(s);
	if ((c->wait_line = malloc(n + 2)) != NULL) {
		memcpy(c->wait_line, s, n);
		memcpy(c->wait_line + n, "\n", 2);
	}
	sat_freezero(s, n);
	return c->wait_line;
}

void
ctl_wait_free(struct ctl *c)
{
	sat_free_secret_str(c->wait_line);
	c->wait_line = NULL;
}
