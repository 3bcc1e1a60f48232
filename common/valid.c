#include <string.h>

#include "token.h"
#include "valid.h"

int
valid_name(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > SAT_NAME_MAX)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

size_t
valid_utf8_seq(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	unsigned int cp;
	size_t k, len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Strict UTF-8, with controls (C0, C1, DEL) refused unless controls_ok;
 * *ret_chars gets the characters. */
static int
utf8_scan(const unsigned char *s, size_t n, int controls_ok,
    size_t *ret_chars)
{
	size_t i, len, chars = 0;

	for (i = 0; i < n; i += len, chars++) {
		if ((len = valid_utf8_seq((const char *)s + i, n - i)) == 0)
			return 0;
		/* C0 and DEL; C1 is U+0080..U+009F, 0xc2 0x80..0x9f */
		if (!controls_ok && (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == 0xc2 && s[i + 1] < 0xa0)))
			return 0;
	}
	if (ret_chars != NULL)
		*ret_chars = chars;
	return 1;
}

int
valid_utf8(const char *s, size_t n)
{
	return s != NULL && utf8_scan((const unsigned char *)s, n, 1, NULL);
}

int
valid_not_blank(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0) {
			s++;	/* no-break space */
			continue;
		}
		return 1;
	}
	return 0;
}

int
valid_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) > max)
		return 0;
	return utf8_scan((const unsigned char *)s, n, 0, NULL);
}

int
valid_token_name(const char *s)
{
	size_t n, chars;

	/* the limit is in characters: 128 of é is 256 bytes, and fine */
	if (s == NULL || (n = strlen(s)) == 0 || n > SAT_TOKEN_NAME_MAX ||
	    !utf8_scan((const unsigned char *)s, n, 0, &chars))
		return 0;
	return chars <= SAT_TOKEN_NAME_CHARS && valid_not_blank(s);
}

int
valid_service(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > SAT_SERVICE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int
valid_holds_token(const char *s, size_t n)
{
	char id[TOKEN_ID_LEN + 1];
	size_t i;

	if (s == NULL || n < TOKEN_LEN)
		return 0;
	for (i = 0; i + TOKEN_LEN <= n; i++)
		if (s[i] == 's' && token_parse(s + i, TOKEN_LEN, id) == 0)
			return 1;
	return 0;
}
