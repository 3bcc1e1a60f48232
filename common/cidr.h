/* satoken: source-network scoping.  IPv4 and IPv6 CIDRs; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is matched as the IPv4 address it is. */
#ifndef SATOKEN_CIDR_H
#define SATOKEN_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network address, host bits zero */
	unsigned int prefix;	/* 0..32 or 0..128 */
};

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a host
 * route).  Host bits must be zero.  SAT_E_INVALID otherwise. */
int cidr_parse(const char *s, struct cidr *ret);

/* Writes the canonical text of c into out (cap >= 50). */
void cidr_format(const struct cidr *c, char *out, size_t cap);

/* 1 if the address text addr (v4, v6, or v4-mapped v6) lies inside c;
 * 0 if not, or if addr is not an IP address. */
int cidr_contains(const struct cidr *c, const char *addr);

#endif
