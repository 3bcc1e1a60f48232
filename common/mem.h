/* satoken: memory that held a secret is wiped before it is released. */
#ifndef SATOKEN_MEM_H
#define SATOKEN_MEM_H

#include <stddef.h>

/* Overwrites n bytes at p with zeros in a way the compiler keeps. */
void sat_wipe(void *p, size_t n);

/* Wipes n bytes at p, then frees p.  Accepts NULL. */
void sat_freezero(void *p, size_t n);

/* Wipes the NUL-terminated string s, then frees it.  Accepts NULL. */
void sat_free_secret_str(char *s);

/* Returns a malloc'd copy of s (caller frees), or NULL on allocation failure. */
char *sat_strdup(const char *s);

/* Returns a malloc'd NUL-terminated copy of the n bytes at p, or NULL. */
char *sat_strndup(const char *p, size_t n);

#endif
