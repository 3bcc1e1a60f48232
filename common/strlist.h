/* satoken: a small owned list of strings (groups, services, CIDRs, ids). */
#ifndef SATOKEN_STRLIST_H
#define SATOKEN_STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;	/* owned, each element owned */
	size_t n;
};

void strlist_init(struct strlist *l);
/* Frees every element and the array; leaves l empty.  Accepts NULL. */
void strlist_free(struct strlist *l);
/* Appends a copy of s.  SAT_E_NOMEM on failure (l unchanged). */
int strlist_add(struct strlist *l, const char *s);
/* Appends a copy of s unless it is already there. */
int strlist_add_unique(struct strlist *l, const char *s);
/* 1 if s is an element, else 0. */
int strlist_contains(const struct strlist *l, const char *s);
/* Removes every element equal to s; returns how many were removed. */
size_t strlist_remove(struct strlist *l, const char *s);
/* Replaces dst with a copy of src. */
int strlist_copy(struct strlist *dst, const struct strlist *src);
/* Splits "a, b,c" at commas, trims blanks, drops empty items, appends
 * unique items to l. */
int strlist_split(struct strlist *l, const char *csv);
/* 1 if the two lists share an element, else 0. */
int strlist_intersects(const struct strlist *a, const struct strlist *b);

#endif
