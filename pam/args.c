#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cfgcache.h"
#include "err.h"

static const char *
value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* The config file comes first whatever its place on the line, so that
 * db= and the other keys override it rather than the other way round. */
static int
load_conf(struct sat_config *cfg, int argc, const char **argv, char *err,
    size_t errlen)
{
	const char *path = NULL, *v;
	int i;

	for (i = 0; i < argc; i++) {
		if ((v = value_of(argv[i], "conf")) == NULL)
			continue;
		if (path != NULL) {
			snprintf(err, errlen, "conf= given twice");
			return SAT_E_CONFIG;
		}
		path = v;
	}
	if (path != NULL && path[0] != '/') {
		snprintf(err, errlen, "conf=: expected an absolute path");
		return SAT_E_CONFIG;
	}
	return cfg_load(cfg, path, err, errlen);
}

static int
set_flag(struct pam_args *a, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {
		{ "use_first_pass", offsetof(struct pam_args, use_first_pass) },
		{ "try_first_pass", offsetof(struct pam_args, try_first_pass) },
		{ "ignore_non_token", offsetof(struct pam_args, ignore_non_token) },
		{ "debug", offsetof(struct pam_args, debug) },
	};
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(arg, flags[i].name) == 0) {
			*(int *)((char *)a + flags[i].off) = 1;
			return 1;
		}
	}
	return 0;
}

void
args_flags(int argc, const char **argv, struct pam_args *ret)
{
	int i;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < argc && argv != NULL; i++)
		if (argv[i] != NULL)
			(void)set_flag(ret, argv[i]);
}

int
args_parse(int argc, const char **argv, struct pam_args *ret, char *err,
    size_t errlen)
{
	const char *v;
	int i, r;

	memset(ret, 0, sizeof(*ret));
	if (argc < 0 || (argc > 0 && argv == NULL)) {
		snprintf(err, errlen, "no arguments");
		return SAT_E_CONFIG;
	}
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL) {
			snprintf(err, errlen, "NULL argument");
			return SAT_E_CONFIG;
		}
	}
	if ((r = cfg_init(&ret->cfg)) != 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if ((r = load_conf(&ret->cfg, argc, argv, err, errlen)) != 0)
		goto fail;
	for (i = 0; i < argc; i++) {
		if (value_of(argv[i], "conf") != NULL || set_flag(ret, argv[i]))
			continue;
		if ((v = value_of(argv[i], "db")) != NULL)
			r = cfg_set(&ret->cfg, "database", v, err, errlen);
		else if (strchr(argv[i], '=') != NULL)
			r = cfg_set_arg(&ret->cfg, argv[i], err, errlen);
		else {
			snprintf(err, errlen, "unknown option '%.64s'", argv[i]);
			r = SAT_E_CONFIG;
		}
		if (r != 0)
			goto fail;
	}
	if ((r = cfg_check(&ret->cfg, err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	args_free(ret);
	return r == SAT_E_NOMEM ? r : SAT_E_CONFIG;
}

void
args_free(struct pam_args *a)
{
	if (a == NULL)
		return;
	cfg_free(&a->cfg);
	memset(a, 0, sizeof(*a));
}

/* The config file args_parse reads: the first conf=, else the default. */
static const char *
conf_path(int argc, const char **argv)
{
	const char *v;
	int i;

	for (i = 0; i < argc; i++)
		if ((v = value_of(argv[i], "conf")) != NULL)
			return v;
	return SAT_CONF_DEFAULT;
}

struct build_arg {
	int argc;
	const char **argv;
	char *err;
	size_t errlen;
};

static int
build_args(void *arg, void **ret)
{
	struct build_arg *b = arg;
	struct pam_args *a;
	int r;

	if ((a = malloc(sizeof(*a))) == NULL)
		return SAT_E_NOMEM;
	if ((r = args_parse(b->argc, b->argv, a, b->err, b->errlen)) != 0) {
		free(a);
		return r;
	}
	*ret = a;
	return 0;
}

static void
free_args(void *value)
{
	args_free(value);
	free(value);
}

static const struct cfg_cache_ops args_ops = { build_args, free_args };
/* The parsed arguments and satoken.conf, kept while the file and the
 * PAM line stay the same (cfgcache.h): parsing them at every call was
 * a fifth of a login's own cost. */
static struct cfg_cache args_cache = CFG_CACHE_INIT(&args_ops);

/* The PAM line as the cache's key: the arguments, each with its NUL.
 * 0 when it cannot be one (too long, a NULL argument). */
static size_t
args_key(int argc, const char **argv, char *buf, size_t cap)
{
	size_t n = 0, l;
	int i;

	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			return 0;
		l = strlen(argv[i]) + 1;
		if (l > cap - n)
			return 0;
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	return n;
}

int
args_get(int argc, const char **argv, const struct pam_args **ret,
    struct cfg_entry **ref, char *err, size_t errlen)
{
	struct build_arg b = { argc, argv, err, errlen };
	char key[4096];
	size_t keylen = 0;
	void *v = NULL;
	int r;

	if (argc > 0 && argv != NULL)
		keylen = args_key(argc, argv, key, sizeof(key));
	if (argc == 0 || keylen > 0)
		r = cfg_cache_get(&args_cache, conf_path(argc, argv), key,
		    keylen, &b, &v, ref);
	else	/* too long, or bad (args_parse says why): this call only */
		r = cfg_cache_get(&args_cache, NULL, NULL, 0, &b, &v, ref);
	if (r == 0)
		*ret = v;
	return r;
}

void
args_put(struct cfg_entry *ref)
{
	cfg_cache_put(&args_cache, ref);
}

void
args_cache_reset(void)
{
	cfg_cache_clear(&args_cache);
}
