/* satokend: the sorted account and group names kept in memory, so a
 * listing page or a quota check never scans the store (which holds up to
 * millions of token records). */
#ifndef SATOKEND_NAMES_H
#define SATOKEND_NAMES_H

#include <stddef.h>

#include "strlist.h"

/* A strlist kept sorted (strcmp) and unique.  */

/* 1 if s is present. */
int names_contains(const struct strlist *l, const char *s);
/* Inserts a copy of s at its place; present already is not an error. */
int names_insert(struct strlist *l, const char *s);
/* Removes s if present. */
void names_remove(struct strlist *l, const char *s);
/* Index of the first element strictly after s (s NULL or "": 0). */
size_t names_after(const struct strlist *l, const char *s);

#endif
