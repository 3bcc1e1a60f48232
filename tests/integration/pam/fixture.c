#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

static void
fail(const char *what)
{
	fprintf(stderr, "fixture: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *
env_path(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] != '/') {
		fprintf(stderr, "fixture: set %s to an absolute path\n", name);
		exit(1);
	}
	return v;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		fail(path);
	fputs(text, fp);
	if (fclose(fp) != 0)
		fail(path);
}

void
fx_setup(struct fx *f, unsigned lock_timeout_ms)
{
	const char *tmp = getenv("TMPDIR");
	char text[FX_PATH * 3];

	memset(f, 0, sizeof(*f));
	f->satfix = env_path("SATFIX");
	f->module = env_path("PAM_MODULE");
	snprintf(f->dir, sizeof(f->dir), "%s/satpam.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		fail("mkdtemp");
	snprintf(f->db, sizeof(f->db), "%s/satoken.db", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/satoken.conf", f->dir);
	snprintf(f->audit, sizeof(f->audit), "%s/audit.log", f->dir);
	snprintf(f->svcdir, sizeof(f->svcdir), "%s/pam.d", f->dir);
	if (mkdir(f->svcdir, 0700) != 0)
		fail("mkdir");
	snprintf(text, sizeof(text),
	    "# written by the PAM tests\n"
	    "database = %s\n"
	    "audit = file:%s\n"
	    "lock_timeout_ms = %u\n", f->db, f->audit, lock_timeout_ms);
	write_file(f->conf, text);
	if (fx_satfix(f, f->db, "init", NULL) != 0) {
		fprintf(stderr, "fixture: satfix init failed\n");
		exit(1);
	}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* a test may have left a file unreadable: root removes it anyway */
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
fx_teardown(struct fx *f)
{
	if (f->dir[0] != '\0')
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	f->dir[0] = '\0';
}

/* Runs satfix with argv; stdout goes into out (cap bytes) when given. */
static int
run(const struct fx *f, const char **argv, char *out, size_t cap)
{
	int pfd[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(pfd) != 0)
		fail("pipe");
	if ((pid = fork()) < 0)
		fail("fork");
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv(f->satfix, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char junk[256];
		char *dst = out != NULL && n + 1 < cap ? out + n : junk;
		size_t room = out != NULL && n + 1 < cap ? cap - n - 1 :
		    sizeof(junk);

		r = read(pfd[0], dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != junk)
			n += (size_t)r;
	}
	close(pfd[0]);
	if (out != NULL)
		out[n] = '\0';
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int
fx_satfix(const struct fx *f, const char *db, ...)
{
	const char *argv[32];
	size_t n = 0;
	va_list ap;

	argv[n++] = f->satfix;
	argv[n++] = db;
	va_start(ap, db);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run(f, argv, NULL, 0);
}

int
fx_mint(const struct fx *f, char *tok, const char *account, const char *name,
    ...)
{
	const char *argv[32];
	char out[256];
	size_t n = 0;
	va_list ap;
	int r;

	argv[n++] = f->satfix;
	argv[n++] = f->db;
	argv[n++] = "mint";
	argv[n++] = account;
	argv[n++] = name;
	va_start(ap, name);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	r = run(f, argv, out, sizeof(out));
	if (r != 0 || strlen(out) != FX_TOKEN_LEN + 1 ||
	    out[FX_TOKEN_LEN] != '\n')
		return -1;
	memcpy(tok, out, FX_TOKEN_LEN);
	tok[FX_TOKEN_LEN] = '\0';
	explicit_bzero(out, sizeof(out));
	return 0;
}

void
fx_token_id(const char *tok, char *id)
{
	memcpy(id, tok + 4, 12);
	id[12] = '\0';
}

void
fx_service(const struct fx *f, const char *name, const char *fmt, ...)
{
	char path[FX_PATH * 2], text[8192];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", f->svcdir, name);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	write_file(path, text);
}

int
fx_copy(const char *from, const char *to)
{
	char b[65536];
	int in, out, rc = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, b, sizeof(b))) > 0)
		if (write(out, b, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

char *
fx_audit_text(const struct fx *f)
{
	FILE *fp = fopen(f->audit, "r");
	char *text = NULL;
	size_t cap = 0, n;

	if (fp == NULL)
		return strdup("");
	n = (size_t)getdelim(&text, &cap, '\0', fp);
	fclose(fp);
	if (text == NULL || n == (size_t)-1) {
		free(text);
		return strdup("");
	}
	return text;
}

char *
fx_audit_last(const struct fx *f)
{
	char *text = fx_audit_text(f), *p, *last;
	size_t n = strlen(text);

	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	last = (p = strrchr(text, '\n')) != NULL ? p + 1 : text;
	memmove(text, last, strlen(last) + 1);
	return text;
}

size_t
fx_audit_lines(const struct fx *f)
{
	char *text = fx_audit_text(f), *p;
	size_t n = 0;

	for (p = text; *p != '\0'; p++)
		n += *p == '\n';
	free(text);
	return n;
}
