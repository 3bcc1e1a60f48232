/* satokend: fleet status.  The hosts' positions are not in what hosts
 * follow (provider.conf says why: N*N deliveries in a fleet of N); asked
 * for fleet status, a host reads them from the directory itself. */
#ifndef SATOKEND_HOSTSREAD_H
#define SATOKEND_HOSTSREAD_H

#include <stdint.h>

#include "config.h"
#include "fleet.h"

/* A host as fleet status shows it: its cn=HOST,ou=hosts entry, with its
 * position from cn=HOST,ou=positions when it has written one. */
struct fleet_host {
	char name[65];
	char applied[FLEET_APPLIED_MAX + 1];	/* CSNs; "" before any */
	int64_t last_contact;			/* Unix seconds; 0: never */
};

struct fleet_view {
	struct fleet_host *hosts;	/* sorted by name */
	size_t n, cap;
};

struct hostsread;

/* What this host has applied, now (fleet_self in fleet.h): the view
 * shows it for this host instead of what it last wrote. */
typedef void hostsread_self_fn(struct fleet *f, const char **name,
    char *applied, size_t cap, int64_t *contact);

/* SAT_E_NOMEM, or 0 with *ret set; nothing is connected yet.  self(f)
 * tells this host's own position (fleet_self). */
int hostsread_new(const struct sat_config *cf, hostsread_self_fn *self,
    struct fleet *f, struct hostsread **ret);
/* Every host entry with its position, as the directory holds them (this
 * host's own as it is now), sorted by name: read at most once a second
 * (no host writes its position more often), waiting for the directory;
 * or, when csn (NULL: none) is a change the last read did not show on
 * every host, the last read's at once, a new read sent (every
 * WAIT_READ_MS at most) and taken in at a later call.  *ret is
 * borrowed until the next call.  SAT_E_IO, with why in err, when the
 * directory cannot be asked or has no positions. */
int hostsread_get(struct hostsread *hr, const char *csn,
    const struct fleet_view **ret, char *err, size_t errlen);
/* fd (the loop's epoll) readable means requests or events wait: a
 * --wait read is then not waited for.  Accepts NULL. */
void hostsread_busy_fd(struct hostsread *hr, int fd);
/* Accepts NULL. */
void hostsread_free(struct hostsread *hr);

#endif
