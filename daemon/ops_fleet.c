/* satokend: fleet status, from the host entries the follower keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fleet.h"
#include "ops.h"

/* One CSN's time: YYYYmmddHHMMSS.ffffffZ, -1 if it does not read. */
static int64_t
csn_one_ms(const char *s, size_t n)
{
	struct tm tm;
	int us;
	size_t i;

	if (n < 22 || s[14] != '.' || s[21] != 'Z')
		return -1;
	for (i = 0; i < 21; i++)
		if (i != 14 && (s[i] < '0' || s[i] > '9'))
			return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d%2d%2d%2d%2d%2d.%6d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + us / 1000;
}

int64_t
fleet_csn_ms(const char *csns)
{
	const char *p = csns, *end;
	int64_t best = -1, t;

	while (p != NULL && *p != '\0') {
		end = strchr(p, ';');
		t = csn_one_ms(p, end != NULL ? (size_t)(end - p) : strlen(p));
		if (t > best)
			best = t;
		p = end != NULL ? end + 1 : NULL;
	}
	return best;
}

/* Every host: its lag behind the newest change any host has applied
 * (so a host that has everything shows 0 however quiet the fleet), and
 * its last contact with the directory. */
int
op_fleet_status(struct op_ctx *c)
{
	const struct fleet_view *v = c->st->fleet;
	json_t *items, *it;
	int64_t newest = -1, t;
	size_t i;

	if (v == NULL)
		return op_fail(c, SAT_E_INVALID, "this host is standalone: "
		    "satoken.conf names no directory");
	for (i = 0; i < v->n; i++)
		if ((t = fleet_csn_ms(v->hosts[i].applied)) > newest)
			newest = t;
	if ((items = json_array()) == NULL)
		return SAT_E_NOMEM;
	for (i = 0; i < v->n; i++) {
		const struct fleet_host *h = &v->hosts[i];

		t = fleet_csn_ms(h->applied);
		it = json_pack("{s:s, s:o, s:o}", "host", h->name,
		    "lag_ms", t < 0 ? json_null() : json_integer(newest - t),
		    "last_contact", h->last_contact > 0 ?
		    json_integer(h->last_contact) : json_null());
		if (it == NULL || json_array_append_new(items, it) != 0) {
			json_decref(items);
			return SAT_E_NOMEM;
		}
	}
	if (json_object_set_new(c->reply, "items", items) != 0)
		return SAT_E_NOMEM;
	return 0;
}
