/* satokend: fleet status, from the host entries and their positions,
 * read from the directory when asked (hostsread.h says why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csn.h"
#include "err.h"
#include "fleet.h"
#include "hostsread.h"
#include "ops.h"

/* Every host: its lag behind the newest change any host has applied
 * (so a host that has everything shows 0 however quiet the fleet), and
 * its last contact with the directory.  Given a change's position
 * ("csn", from a control host's reply to a request with "confirm"),
 * whether each host has applied it: --wait asks until all have. */
int
op_fleet_status(struct op_ctx *c)
{
	const struct fleet_view *v;
	json_t *items, *it;
	int64_t newest = -1, t;
	char err[300];
	size_t i;
	int r;

	if (c->st->hosts == NULL)
		return op_fail(c, SAT_E_INVALID, "this host is standalone: "
		    "satoken.conf names no directory");
	if (c->rq->csn != NULL && csn_set_valid(c->rq->csn) != 0)
		return op_fail(c, SAT_E_INVALID, "csn must be the position a "
		    "control host's reply gave (CSNs separated by ';')");
	if ((r = hostsread_get(c->st->hosts, c->rq->csn, &v, err,
	    sizeof(err))) != 0)
		return op_fail(c, r, "%s", err);
	for (i = 0; i < v->n; i++)
		if ((t = csn_set_ms(v->hosts[i].applied)) > newest)
			newest = t;
	if ((items = json_array()) == NULL)
		return SAT_E_NOMEM;
	for (i = 0; i < v->n; i++) {
		const struct fleet_host *h = &v->hosts[i];

		t = csn_set_ms(h->applied);
		it = json_pack("{s:s, s:o, s:o}", "host", h->name,
		    "lag_ms", t < 0 ? json_null() : json_integer(newest - t),
		    "last_contact", h->last_contact > 0 ?
		    json_integer(h->last_contact) : json_null());
		if (it != NULL && c->rq->csn != NULL &&
		    json_object_set_new(it, "confirmed",
		    json_boolean(csn_covers(h->applied, c->rq->csn))) != 0) {
			json_decref(it);
			it = NULL;
		}
		if (it == NULL || json_array_append_new(items, it) != 0) {
			json_decref(items);
			return SAT_E_NOMEM;
		}
	}
	if (json_object_set_new(c->reply, "items", items) != 0)
		return SAT_E_NOMEM;
	return 0;
}
