/* satokend: fleet status on a follower.  A follower does not follow the
 * host entries (follower.c says why: N*N deliveries in a fleet of N);
 * asked for fleet status, it reads them from the directory itself. */
#ifndef SATOKEND_HOSTSREAD_H
#define SATOKEND_HOSTSREAD_H

#include "config.h"
#include "fleet.h"

struct hostsread;

/* SAT_E_NOMEM, or 0 with *ret set; nothing is connected yet. */
int hostsread_new(const struct sat_config *cf, struct hostsread **ret);
/* Every host entry as the directory holds it, sorted by name: read at
 * most once a second (no host writes its position more often), else
 * the last read's.  *ret is borrowed until the next call.  SAT_E_IO,
 * with why in err, when the directory cannot be asked. */
int hostsread_get(struct hostsread *hr, const struct fleet_view **ret,
    char *err, size_t errlen);
/* Accepts NULL. */
void hostsread_free(struct hostsread *hr);

#endif
