#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mem.h"

void
sat_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
sat_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	sat_wipe(p, n);
	free(p);
}

void
sat_free_secret_str(char *s)
{
	if (s == NULL)
		return;
	sat_freezero(s, strlen(s));
}

char *
sat_strdup(const char *s)
{
	return sat_strndup(s, strlen(s));
}

char *
sat_strndup(const char *p, size_t n)
{
	char *r;

	if (n == (size_t)-1 || (r = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(r, p, n);
	r[n] = '\0';
	return r;
}
