/* satoken: CSNs (csn.h says what they are and why the rule is per
 * provider). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "csn.h"
#include "err.h"

/* the field layout: 0..13 digits, '.', 15..20 digits, 'Z', '#', six
 * digits (count), '#', three hex digits (sid), '#', six (modifier) */
#define SID_AT	30
#define SID_LEN	3

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int
csn_valid(const char *s, size_t n)
{
	size_t i;

	if (n != CSN_LEN || s[14] != '.' || s[21] != 'Z' || s[22] != '#' ||
	    s[29] != '#' || s[33] != '#')
		return 0;
	for (i = 0; i < CSN_LEN; i++) {
		if (i == 14 || i == 21 || i == 22 || i == 29 || i == 33)
			continue;
		if (i >= 23 && !is_hex(s[i]))
			return 0;
		if (i < 23 && !is_digit(s[i]))
			return 0;
	}
	return 1;
}

/* Calls fn for each CSN of set; stops at the first nonzero it returns
 * and returns it.  SAT_E_INVALID for a set that does not read. */
static int
each(const char *set, int (*fn)(void *, const char *), void *arg)
{
	const char *p = set, *end;
	size_t n;
	int r;

	if (set == NULL || *set == '\0' || strlen(set) > CSN_SET_MAX)
		return SAT_E_INVALID;
	for (;;) {
		end = strchr(p, ';');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (!csn_valid(p, n))
			return SAT_E_INVALID;
		if ((r = fn(arg, p)) != 0)
			return r;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int
nothing(void *arg, const char *csn)
{
	(void)arg;
	(void)csn;
	return 0;
}

int
csn_set_valid(const char *set)
{
	return each(set, nothing, NULL);
}

struct cover {
	const char *want;	/* one CSN of the target */
	int found;
};

static int
same_sid_newer(void *arg, const char *have)
{
	struct cover *cv = arg;

	if (memcmp(have + SID_AT, cv->want + SID_AT, SID_LEN) == 0 &&
	    memcmp(have, cv->want, CSN_LEN) >= 0)
		cv->found = 1;
	return 0;
}

static int
covered(void *arg, const char *want)
{
	const char *const *applied = arg;
	struct cover cv = { want, 0 };

	if (each(*applied, same_sid_newer, &cv) != 0 || !cv.found)
		return 1;	/* stop: not covered */
	return 0;
}

int
csn_covers(const char *applied, const char *target)
{
	if (csn_set_valid(applied) != 0 || csn_set_valid(target) != 0)
		return 0;
	return each(target, covered, &applied) == 0;
}

struct merge {
	char *set;
	size_t cap;
};

static int
merge_one(void *arg, const char *add)
{
	struct merge *m = arg;
	char *p = m->set;
	size_t n = strlen(m->set);

	while (n > 0) {
		if (memcmp(p + SID_AT, add + SID_AT, SID_LEN) == 0) {
			if (memcmp(add, p, CSN_LEN) > 0)
				memcpy(p, add, CSN_LEN);
			return 0;
		}
		if ((p = strchr(p, ';')) == NULL)
			break;
		p++;
	}
	if (n + (n > 0) + CSN_LEN + 1 > m->cap)
		return SAT_E_INVALID;
	if (n > 0)
		m->set[n++] = ';';
	memcpy(m->set + n, add, CSN_LEN);
	m->set[n + CSN_LEN] = '\0';
	return 0;
}

int
csn_merge(char *set, size_t cap, const char *csns)
{
	char tmp[CSN_SET_MAX + 1];
	struct merge m = { tmp, sizeof(tmp) < cap ? sizeof(tmp) : cap };
	int r;

	if (cap == 0 || strlen(set) >= m.cap ||
	    (set[0] != '\0' && csn_set_valid(set) != 0))
		return SAT_E_INVALID;
	memcpy(tmp, set, strlen(set) + 1);
	if ((r = each(csns, merge_one, &m)) != 0)
		return r;
	memcpy(set, tmp, strlen(tmp) + 1);
	return 0;
}

static int
newest_ms(void *arg, const char *s)
{
	int64_t *best = arg, t;
	struct tm tm;
	int us;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d%2d%2d%2d%2d%2d.%6d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm) * 1000 + us / 1000;
	if (t > *best)
		*best = t;
	return 0;
}

int64_t
csn_set_ms(const char *set)
{
	int64_t best = -1;

	if (each(set, newest_ms, &best) != 0)
		return -1;
	return best;
}
