#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"
#include "names.h"

/* names_take fills chunks this far, so that the first inserts after a
 * load do not split every chunk */
#define NAMES_FILL	(NAMES_CHUNK * 3 / 4)

void
names_init(struct names *l)
{
	memset(l, 0, sizeof(*l));
}

void
names_free(struct names *l)
{
	size_t i, k;

	if (l == NULL)
		return;
	for (i = 0; i < l->nc; i++) {
		for (k = 0; k < l->c[i]->n; k++)
			free(l->c[i]->v[k]);
		free(l->c[i]);
	}
	free(l->c);
	names_init(l);
}

/* Index in ch of the first element >= s. */
static size_t
lower_bound(const struct names_chunk *ch, const char *s)
{
	size_t lo = 0, hi = ch->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(ch->v[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first chunk whose last element is >= s; l->nc if there is none
 * (s sorts after every name). */
static size_t
chunk_for(const struct names *l, const char *s)
{
	size_t lo = 0, hi = l->nc, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(l->c[mid]->v[l->c[mid]->n - 1], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for one more chunk pointer. */
static int
grow_table(struct names *l)
{
	struct names_chunk **nv;
	size_t ncap;

	if (l->nc < l->capc)
		return 0;
	ncap = l->capc ? l->capc * 2 : 16;
	if ((nv = realloc(l->c, ncap * sizeof(*nv))) == NULL)
		return SAT_E_NOMEM;
	l->c = nv;
	l->capc = ncap;
	return 0;
}

static void
table_insert(struct names *l, size_t at, struct names_chunk *ch)
{
	memmove(&l->c[at + 1], &l->c[at], (l->nc - at) * sizeof(l->c[0]));
	l->c[at] = ch;
	l->nc++;
}

static void
table_remove(struct names *l, size_t at)
{
	free(l->c[at]);
	memmove(&l->c[at], &l->c[at + 1], (l->nc - at - 1) * sizeof(l->c[0]));
	l->nc--;
}

int
names_take(struct names *l, struct strlist *src)
{
	struct names t;
	struct names_chunk *ch;
	size_t i, k, nc = (src->n + NAMES_FILL - 1) / NAMES_FILL;

	names_init(&t);
	if (nc > 0 && (t.c = calloc(nc, sizeof(*t.c))) == NULL)
		return SAT_E_NOMEM;
	t.capc = nc;
	for (i = 0; i < nc; i++) {
		if ((t.c[i] = malloc(sizeof(*t.c[i]))) == NULL) {
			while (i-- > 0)
				free(t.c[i]);
			free(t.c);
			return SAT_E_NOMEM;
		}
	}
	/* nothing can fail from here on */
	for (i = 0, k = 0; i < nc; i++) {
		ch = t.c[i];
		ch->n = src->n - k < NAMES_FILL ? src->n - k : NAMES_FILL;
		memcpy(ch->v, src->v + k, ch->n * sizeof(ch->v[0]));
		k += ch->n;
	}
	t.nc = nc;
	t.n = src->n;
	free(src->v);
	src->v = NULL;
	src->n = 0;
	names_free(l);
	*l = t;
	return 0;
}

int
names_contains(const struct names *l, const char *s)
{
	size_t ci = chunk_for(l, s), j;

	if (ci == l->nc)
		return 0;
	j = lower_bound(l->c[ci], s);
	return j < l->c[ci]->n && strcmp(l->c[ci]->v[j], s) == 0;
}

int
names_insert(struct names *l, const char *s)
{
	struct names_chunk *ch, *nb = NULL;
	size_t ci, j, h = NAMES_CHUNK / 2;
	char *c;

	if (l->nc == 0) {
		if (grow_table(l) != 0 ||
		    (nb = malloc(sizeof(*nb))) == NULL)
			return SAT_E_NOMEM;
		if ((nb->v[0] = sat_strdup(s)) == NULL) {
			free(nb);
			return SAT_E_NOMEM;
		}
		nb->n = 1;
		table_insert(l, 0, nb);
		l->n = 1;
		l->at_chunk = l->at_base = 0;
		return 0;
	}
	if ((ci = chunk_for(l, s)) == l->nc)
		ci = l->nc - 1;		/* after every name: the last chunk */
	ch = l->c[ci];
	j = lower_bound(ch, s);
	if (j < ch->n && strcmp(ch->v[j], s) == 0)
		return 0;
	if ((c = sat_strdup(s)) == NULL)
		return SAT_E_NOMEM;
	if (ch->n == NAMES_CHUNK) {
		/* split: the upper half goes to a new chunk after it */
		if (grow_table(l) != 0 || (nb = malloc(sizeof(*nb))) == NULL) {
			free(c);
			return SAT_E_NOMEM;
		}
		nb->n = NAMES_CHUNK - h;
		memcpy(nb->v, ch->v + h, nb->n * sizeof(nb->v[0]));
		ch->n = h;
		table_insert(l, ci + 1, nb);
		if (j > h) {
			ch = nb;
			j -= h;
		}
	}
	memmove(&ch->v[j + 1], &ch->v[j], (ch->n - j) * sizeof(ch->v[0]));
	ch->v[j] = c;
	ch->n++;
	l->n++;
	l->at_chunk = l->at_base = 0;
	return 0;
}

void
names_remove(struct names *l, const char *s)
{
	struct names_chunk *ch, *nx;
	size_t ci = chunk_for(l, s), j;

	if (ci == l->nc)
		return;
	ch = l->c[ci];
	j = lower_bound(ch, s);
	if (j >= ch->n || strcmp(ch->v[j], s) != 0)
		return;
	free(ch->v[j]);
	memmove(&ch->v[j], &ch->v[j + 1], (ch->n - j - 1) * sizeof(ch->v[0]));
	ch->n--;
	l->n--;
	l->at_chunk = l->at_base = 0;
	if (ch->n == 0) {
		table_remove(l, ci);
		return;
	}
	/* keep chunks from thinning out after many removals: a small one
	 * joins a neighbour */
	if (ci > 0 && l->c[ci - 1]->n + ch->n <= NAMES_CHUNK / 2) {
		ci--;
		ch = l->c[ci];
	}
	if (ci + 1 < l->nc && ch->n + (nx = l->c[ci + 1])->n <= NAMES_CHUNK / 2) {
		memcpy(ch->v + ch->n, nx->v, nx->n * sizeof(nx->v[0]));
		ch->n += nx->n;
		table_remove(l, ci + 1);
	}
}

size_t
names_after(const struct names *l, const char *s)
{
	size_t ci, j, i, base = 0;

	if (s == NULL || s[0] == '\0')
		return 0;
	if ((ci = chunk_for(l, s)) == l->nc)
		return l->n;
	j = lower_bound(l->c[ci], s);
	if (j < l->c[ci]->n && strcmp(l->c[ci]->v[j], s) == 0)
		j++;
	for (i = 0; i < ci; i++)
		base += l->c[i]->n;
	return base + j;
}

const char *
names_at(struct names *l, size_t i)
{
	if (i >= l->n)
		return NULL;
	if (l->at_chunk >= l->nc || i < l->at_base)
		l->at_chunk = l->at_base = 0;
	while (i >= l->at_base + l->c[l->at_chunk]->n) {
		l->at_base += l->c[l->at_chunk]->n;
		l->at_chunk++;
	}
	return l->c[l->at_chunk]->v[i - l->at_base];
}
