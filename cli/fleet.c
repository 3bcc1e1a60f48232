/* satokenctl fleet status: every host of the fleet, its lag and its
 * last contact with the directory, as this host's satokend last heard. */
#include <stdio.h>
#include <time.h>

#include "ctl.h"

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
