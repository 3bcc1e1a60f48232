/* satokend: the sorted account and group names kept in memory, so a
 * listing page or a quota check never scans the store (which holds up to
 * millions of token records).
 *
 * The names are held in chunks of at most NAMES_CHUNK, each sorted, in
 * order: an insert or a removal moves at most one chunk's pointers and
 * the chunk table, not the whole list (a sorted array made every
 * token.create move half of a list of 100k accounts).  Positional
 * access for listings remembers where it last was, so a walk in order
 * costs O(1) per step. */
#ifndef SATOKEND_NAMES_H
#define SATOKEND_NAMES_H

#include <stddef.h>

#include "strlist.h"

#define NAMES_CHUNK	256

struct names_chunk {
	size_t n;
	char *v[NAMES_CHUNK];	/* owned, sorted (strcmp), unique */
};

struct names {
	struct names_chunk **c;	/* owned, none of them empty */
	size_t nc, capc;
	size_t n;		/* names in all */
	/* names_at's place: chunk at_chunk starts at index at_base */
	size_t at_chunk, at_base;
};

void names_init(struct names *l);
/* Frees every name; leaves l empty.  Accepts NULL. */
void names_free(struct names *l);
/* Replaces l with the names of src, which must be sorted and unique;
 * src is emptied (its strings are taken).  SAT_E_NOMEM leaves both as
 * they were. */
int names_take(struct names *l, struct strlist *src);

/* 1 if s is present. */
int names_contains(const struct names *l, const char *s);
/* Inserts a copy of s at its place; present already is not an error. */
int names_insert(struct names *l, const char *s);
/* Removes s if present. */
void names_remove(struct names *l, const char *s);
/* Index of the first element strictly after s (s NULL or "": 0). */
size_t names_after(const struct names *l, const char *s);
/* The name at index i (< l->n); borrowed until the next change. */
const char *names_at(struct names *l, size_t i);

#endif
