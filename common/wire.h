/* satoken: the protocol's error names, written once for both ends.
 *
 * satokend answers a refusal with {"ok":false,"error":NAME,...}, NAME
 * from a SAT_E_* code; satokenctl turns NAME into its exit code.  Both
 * read the one table in wire.c, so a code cannot mean one thing to the
 * daemon and another to the client (DESIGN.md, "Daemon protocol" and
 * "satokenctl"). */
#ifndef SATOKEN_WIRE_H
#define SATOKEN_WIRE_H

/* satokenctl's exit codes (DESIGN.md). */
enum {
	EXIT_OK = 0,
	EXIT_UNAVAILABLE = 1,
	EXIT_VALIDATION = 2,
	EXIT_PERMISSION = 3,
	EXIT_NOT_FOUND = 4,
	EXIT_CONFLICT = 5,
	EXIT_QUOTA = 6,
	EXIT_THROTTLED = 7,
	EXIT_READ_ONLY = 8,	/* a fleet follower */
	EXIT_NOT_CONFIRMED = 9,	/* --wait ran out before every host */
};

/* The wire name of a SAT_E_* code ("VALIDATION"...); static, never
 * NULL; a code the table does not name is "INTERNAL". */
const char *wire_name(int err);

/* The exit code of a wire name; NULL or a name the table does not know
 * (a newer daemon's) is EXIT_UNAVAILABLE. */
int wire_exit(const char *name);

#endif
