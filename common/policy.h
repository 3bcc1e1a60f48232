/* satoken: the group token-usage policy (CAN_USE) and account validity. */
#ifndef SATOKEN_POLICY_H
#define SATOKEN_POLICY_H

#include <stdint.h>

#include "record.h"
#include "strlist.h"

/* 1 if at least one of the account's groups is granted CAN_USE. */
int policy_allows(const struct sat_policy *p, const struct sat_account *a);

/* PATCH: grants the groups, never removes.  0 or SAT_E_NOMEM. */
int policy_add(struct sat_policy *p, const struct strlist *groups);
/* PUT: the list becomes exactly groups (empty: nobody). */
int policy_set(struct sat_policy *p, const struct strlist *groups);
/* Removes the groups; absent ones are ignored. */
void policy_remove(struct sat_policy *p, const struct strlist *groups);

/* When the account stops being valid (created_at + days_valid days), or
 * 0 if it has no end. */
int64_t account_expires_at(const struct sat_account *a);
/* 1 if the account has expired at now. */
int account_expired(const struct sat_account *a, int64_t now);

#endif
