#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "names.h"

/* Index of the first element >= s. */
static size_t
lower_bound(const struct strlist *l, const char *s)
{
	size_t lo = 0, hi = l->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(l->v[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
names_contains(const struct strlist *l, const char *s)
{
	size_t i = lower_bound(l, s);

	return i < l->n && strcmp(l->v[i], s) == 0;
}

int
names_insert(struct strlist *l, const char *s)
{
	size_t i = lower_bound(l, s);
	char **nv, *c;

	if (i < l->n && strcmp(l->v[i], s) == 0)
		return 0;
	if ((c = sat_strdup(s)) == NULL)
		return SAT_E_NOMEM;
	/* strlist has no capacity field: grow by one, as strlist_add does */
	if ((nv = realloc(l->v, (l->n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return SAT_E_NOMEM;
	}
	l->v = nv;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*nv));
	l->v[i] = c;
	l->n++;
	return 0;
}

void
names_remove(struct strlist *l, const char *s)
{
	size_t i = lower_bound(l, s);

	if (i >= l->n || strcmp(l->v[i], s) != 0)
		return;
	free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

size_t
names_after(const struct strlist *l, const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	i = lower_bound(l, s);
	if (i < l->n && strcmp(l->v[i], s) == 0)
		i++;
	return i;
}
