/* satoken: the directory's change sequence numbers (CSNs), and the one
 * rule by which a host's applied position covers a change.
 *
 * OpenLDAP writes a CSN as "YYYYmmddHHMMSS.ffffffZ#CCCCCC#SSS#MMMMMM":
 * time, a count within the microsecond, the id of the provider that
 * made the change (its serverID), a modifier.  A sync cookie, and so a
 * host's satokenApplied value, holds one CSN per provider, separated by
 * ';'.  CSNs of one provider compare as strings; CSNs of two providers
 * do not compare at all, which is why "covers" goes provider by
 * provider (DESIGN "Fleet", --wait). */
#ifndef SATOKEN_CSN_H
#define SATOKEN_CSN_H

#include <stddef.h>
#include <stdint.h>

#define CSN_LEN		40	/* one CSN, without a terminator */
#define CSN_SET_MAX	256	/* a set, as satokenApplied bounds it */

/* 1 if s[0..n) is one well-formed CSN, else 0. */
int csn_valid(const char *s, size_t n);

/* 0 if set is a non-empty ';'-separated list of well-formed CSNs, at
 * most CSN_SET_MAX bytes; SAT_E_INVALID otherwise. */
int csn_set_valid(const char *set);

/* 1 if the position applied (a set, as a host reports it) covers every
 * CSN of target: for each, a CSN of the same provider at least as new.
 * 0 otherwise, and whenever either does not read: an unreadable
 * position never confirms anything. */
int csn_covers(const char *applied, const char *target);

/* Folds the CSNs of csns (a set) into set (a set or "", cap bytes with
 * its terminator): per provider, the newer.  0; SAT_E_INVALID, with set
 * unchanged, when csns does not read or a new provider would not fit. */
int csn_merge(char *set, size_t cap, const char *csns);

/* Milliseconds since the epoch of the newest CSN in set, or -1 when
 * none reads. */
int64_t csn_set_ms(const char *set);

#endif
