#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "num.h"
#include "pidstart.h"

#define STAT_FIELD_START	22
#define PROC_TEXT_MAX		4096

int
pidstart_parse(const char *text, size_t n, uint64_t *ret_start)
{
	struct buf b, f;
	char num[24];
	size_t i, close = n;
	int field;

	/* the name ends at the last ')': whatever it holds is before it */
	for (i = 0; i < n; i++)
		if (text[i] == ')')
			close = i;
	if (close == n)
		return SAT_E_MALFORMED;
	buf_init(&b, text + close + 1, n - close - 1);
	if (buf_expect(&b, " ", 1) != 0)
		return SAT_E_MALFORMED;
	/* field 3 (the state) comes first */
	for (field = 3; field <= STAT_FIELD_START; field++) {
		if (buf_get_until(&b, ' ', &f) != 0)
			return SAT_E_MALFORMED;
	}
	if (f.len == 0 || f.len >= sizeof(num))
		return SAT_E_MALFORMED;
	memcpy(num, f.p, f.len);
	num[f.len] = '\0';
	return parse_u64(num, 0, UINT64_MAX, ret_start) == 0 ? 0 :
	    SAT_E_MALFORMED;
}

/* Reads /proc/PID/NAME whole into out (NUL-terminated). */
static int
read_proc(uint32_t pid, const char *name, char *out, size_t cap,
    size_t *ret_len)
{
	char path[64];
	ssize_t got;
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", (unsigned)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT || errno == ESRCH ? SAT_E_NOTFOUND :
		    SAT_E_IO;
	while (n + 1 < cap && (got = read(fd, out + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	got = got < 0 ? -1 : 0;
	close(fd);
	/* a process that exits while we read leaves ESRCH behind */
	if (got < 0 || n == 0)
		return SAT_E_NOTFOUND;
	out[n] = '\0';
	*ret_len = n;
	return 0;
}

int
pidstart_read(uint32_t pid, uint64_t *ret_start, uid_t *ret_uid)
{
	char text[PROC_TEXT_MAX], num[24];
	const char *u;
	uint64_t start, uid;
	size_t n, k;
	int r;

	if (pid == 0)
		return SAT_E_NOTFOUND;
	if ((r = read_proc(pid, "stat", text, sizeof(text), &n)) != 0)
		return r;
	if ((r = pidstart_parse(text, n, &start)) != 0)
		return r;
	if ((r = read_proc(pid, "status", text, sizeof(text), &n)) != 0)
		return r;
	/* "Uid:\treal\teffective\tsaved\tfs": the real one */
	if ((u = strstr(text, "\nUid:\t")) == NULL)
		return SAT_E_MALFORMED;
	u += 6;
	for (k = 0; k + 1 < sizeof(num) && u[k] >= '0' && u[k] <= '9'; k++)
		num[k] = u[k];
	num[k] = '\0';
	if (parse_u64(num, 0, UINT32_MAX - 1, &uid) != 0)
		return SAT_E_MALFORMED;
	*ret_start = start;
	*ret_uid = (uid_t)uid;
	return 0;
}

int
pidstart_same(uint32_t pid, uint64_t start)
{
	uint64_t now;
	uid_t uid;
	int r;

	if ((r = pidstart_read(pid, &now, &uid)) == SAT_E_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	return now == start;
}
