#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "err.h"
#include "num.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parses an address; a v4-mapped v6 address becomes AF_INET. */
static int
addr_parse(const char *s, int *family, uint8_t out[16])
{
	uint8_t a6[16];

	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a6) == 1) {
		if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0) {
			*family = AF_INET;
			memcpy(out, a6 + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(out, a6, 16);
		}
		return 0;
	}
	return SAT_E_INVALID;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, unsigned int prefix)
{
	unsigned int full = prefix / 8, rem = prefix % 8;
	uint8_t mask;

	if (full > 0 && memcmp(a, b, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rem));
	return (a[full] & mask) == (b[full] & mask);
}

int
cidr_parse(const char *s, struct cidr *ret)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	struct cidr c;
	uint64_t pfx;
	unsigned int maxp;
	size_t hl;

	if (s == NULL)
		return SAT_E_INVALID;
	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof(host))
		return SAT_E_INVALID;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* a mapped address in a CIDR is ambiguous: ask for the v4 form */
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1 &&
	    memcmp(c.addr, v4mapped, sizeof(v4mapped)) != 0) {
		c.family = AF_INET6;
	} else {
		return SAT_E_INVALID;
	}
	maxp = c.family == AF_INET ? 32 : 128;
	if (slash == NULL)
		pfx = maxp;
	else if (parse_u64(slash + 1, 0, maxp, &pfx) != 0)
		return SAT_E_INVALID;
	c.prefix = (unsigned int)pfx;
	/* host bits set means the admin meant something else: refuse */
	{
		uint8_t masked[16];
		unsigned int i;

		memcpy(masked, c.addr, 16);
		for (i = c.prefix; i < maxp; i++)
			masked[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		if (memcmp(masked, c.addr, 16) != 0)
			return SAT_E_INVALID;
	}
	*ret = c;
	return 0;
}

void
cidr_format(const struct cidr *c, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(out, cap, "%s/%u", a, c->prefix);
}

int
cidr_contains(const struct cidr *c, const char *addr)
{
	uint8_t a[16];
	int family;

	if (addr == NULL || addr_parse(addr, &family, a) != 0)
		return 0;
	if (family != c->family)
		return 0;
	return prefix_match(a, c->addr, c->prefix);
}
