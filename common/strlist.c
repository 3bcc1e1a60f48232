#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "strlist.h"

void
strlist_init(struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	strlist_init(l);
}

static int
strlist_add_n(struct strlist *l, const char *s, size_t len)
{
	char **nv, *c;

	if ((c = sat_strndup(s, len)) == NULL)
		return SAT_E_NOMEM;
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return SAT_E_NOMEM;
	}
	l->v = nv;
	l->v[l->n++] = c;
	return 0;
}

int
strlist_add(struct strlist *l, const char *s)
{
	return strlist_add_n(l, s, strlen(s));
}

int
strlist_add_unique(struct strlist *l, const char *s)
{
	if (strlist_contains(l, s))
		return 0;
	return strlist_add(l, s);
}

int
strlist_contains(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

size_t
strlist_remove(struct strlist *l, const char *s)
{
	size_t i, j, removed = 0;

	for (i = 0, j = 0; i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0) {
			free(l->v[i]);
			removed++;
		} else {
			l->v[j++] = l->v[i];
		}
	}
	l->n = j;
	return removed;
}

int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	struct strlist t;
	size_t i;
	int r;

	strlist_init(&t);
	for (i = 0; i < src->n; i++) {
		if ((r = strlist_add(&t, src->v[i])) != 0) {
			strlist_free(&t);
			return r;
		}
	}
	strlist_free(dst);
	*dst = t;
	return 0;
}

int
strlist_split(struct strlist *l, const char *csv)
{
	const char *p = csv, *e, *end;
	char *item;
	int r;

	while (*p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		e = end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p) {
			if ((item = sat_strndup(p, (size_t)(e - p))) == NULL)
				return SAT_E_NOMEM;
			r = strlist_add_unique(l, item);
			free(item);
			if (r != 0)
				return r;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int
strlist_intersects(const struct strlist *a, const struct strlist *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strlist_contains(b, a->v[i]))
			return 1;
	return 0;
}
