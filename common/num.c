#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "num.h"

static int
digits_u64(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return SAT_E_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SAT_E_INVALID;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return SAT_E_INVALID;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;

	if (s == NULL || digits_u64(s, strlen(s), &v) != 0 || v < min || v > max)
		return SAT_E_INVALID;
	*ret = v;
	return 0;
}

int
parse_x64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i, n = s != NULL ? strlen(s) : 0;
	int d;

	if (n == 0 || n > 16)
		return SAT_E_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return SAT_E_INVALID;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return 0;
}

static uint64_t
unit_seconds(char c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 604800;
	default:  return 0;
	}
}

/* Plain seconds, or one or more NUMBER UNIT parts ("1h30m", "2w3d").
 * Units must come largest first, each at most once: "30m1h" or "1m1m"
 * is more likely a typo than a wish, and a bare number after a unit
 * ("1h30") is ambiguous, so both are refused rather than guessed. */
int
parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t total = 0, v, mult, last = UINT64_MAX;
	size_t n, i, start;

	if (s == NULL || (n = strlen(s)) == 0)
		return SAT_E_INVALID;
	if (s[n - 1] >= '0' && s[n - 1] <= '9') {
		if (digits_u64(s, n, &total) != 0)
			return SAT_E_INVALID;
		goto range;
	}
	for (i = 0; i < n; ) {
		for (start = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == n || (mult = unit_seconds(s[i])) == 0 || mult >= last)
			return SAT_E_INVALID;
		if (digits_u64(s + start, i - start, &v) != 0 ||
		    v > UINT64_MAX / mult || v * mult > UINT64_MAX - total)
			return SAT_E_INVALID;
		total += v * mult;
		last = mult;
		i++;
	}
range:
	if (total < min || total > max)
		return SAT_E_INVALID;
	*ret = total;
	return 0;
}

static int
fixed_digits(const char *s, size_t n, int *ret)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SAT_E_INVALID;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
parse_rfc3339(const char *s, int64_t *ret)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int Y, M, D, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t n = strlen(s), i = 19;
	int leap;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return SAT_E_INVALID;
	if (fixed_digits(s, 4, &Y) || fixed_digits(s + 5, 2, &M) ||
	    fixed_digits(s + 8, 2, &D) || fixed_digits(s + 11, 2, &h) ||
	    fixed_digits(s + 14, 2, &mi) || fixed_digits(s + 17, 2, &sec))
		return SAT_E_INVALID;
	leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] ||
	    (M == 2 && D == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return SAT_E_INVALID;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (s[i - 1] == '.')
			return SAT_E_INVALID;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
		sign = 0;
	} else if ((s[i] == '+' || s[i] == '-') && i + 6 == n &&
	    s[i + 3] == ':' && fixed_digits(s + i + 1, 2, &oh) == 0 &&
	    fixed_digits(s + i + 4, 2, &om) == 0 && oh <= 23 && om <= 59) {
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return SAT_E_INVALID;
	}
	if (sec == 60)
		sec = 59;
	*ret = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	return 0;
}

int
parse_time(const char *s, int64_t *ret)
{
	uint64_t v;

	if (s == NULL)
		return SAT_E_INVALID;
	if (parse_u64(s, 0, (uint64_t)INT64_MAX / 2, &v) == 0) {
		*ret = (int64_t)v;
		return 0;
	}
	return parse_rfc3339(s, ret);
}

int
parse_bool(const char *s, int *ret)
{
	if (s == NULL)
		return SAT_E_INVALID;
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1")) {
		*ret = 1;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0")) {
		*ret = 0;
		return 0;
	}
	return SAT_E_INVALID;
}

void
format_time(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (cap == 0)
		return;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", (long long)t);
}
