/* satokend: the only writer of the store, serving satokenctl and
 * automation on a Unix socket.  main, start-up checks, signals, config
 * reload and the systemd hand-shakes (by hand: no libsystemd). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <grp.h>

#include <openssl/rand.h>

#include "backup.h"
#include "err.h"
#include "fileio.h"
#include "mem.h"
#include "num.h"
#include "jsonmem.h"
#include "control.h"
#include "fleet.h"
#include "hostsread.h"
#include "proto.h"
#include "satokend.h"
#include "unixsock.h"
#include "bindpid.h"
#include "canaryd.h"
#include "version.h"

#define MAX_CONNS	16384	/* idle ones are cheap: a struct and a socket */
#define FD_RESERVE	64	/* the store, the journal, audit, epoll... */
#define LISTEN_BACKLOG	128
#define RESTORE_MAX	(1024u * 1024 * 1024)
#define SD_LISTEN_FDS_START	3

static int log_foreground = 1;

void
dlog_init(int foreground)
{
	log_foreground = foreground;
	if (!foreground)
		openlog("satokend", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
dlog(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_foreground) {
		fputs("satokend: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(LOG_DAEMON | prio, fmt, ap);
	}
	va_end(ap);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: satokend [--foreground] [--config PATH] [--check-config]\n"
	    "       satokend --restore FILE [--config PATH]\n"
	    "       satokend --version\n"
	    "\n"
	    "  --foreground    stay attached, log to stderr (systemd, tests)\n"
	    "  --config PATH   configuration file (default $SATOKEN_CONF, else\n"
	    "                  " SAT_CONF_DEFAULT ")\n"
	    "  --check-config  check the configuration, print the result, exit\n"
	    "  --restore FILE  replace the store by a backup (satokenctl backup),\n"
	    "                  with satokend stopped, and exit\n"
	    "  --version       print the version (satoken X.Y.Z) and exit\n"
	    "\n"
	    "SIGHUP re-reads the configuration; SIGTERM finishes what was\n"
	    "acknowledged and exits.\n");
}

/* Loads path into a fresh config (cfg_load's rule: a missing default
 * file means the defaults). */
static int
load_config(const char *path, int explicit, struct sat_config *ret,
    char *err, size_t errlen)
{
	int r;

	if ((r = cfg_init(ret)) != 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if ((r = cfg_load(ret, explicit ? path : NULL, err, errlen)) != 0)
		cfg_free(ret);
	return r;
}

/* The directory holding path must be ours and closed to others: a
 * writable state or socket directory lets anyone swap the store or the
 * socket.  Creates it (one level) if it is missing. */
static int
check_dir(const char *path, mode_t mode, const char *what, char *err,
    size_t errlen)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL) {
		snprintf(err, errlen, "%s path %s is not absolute", what, path);
		return -1;
	}
	slash[slash == dir ? 1 : 0] = '\0';
	if (lstat(dir, &st) != 0 && errno == ENOENT) {
		if (mkdir(dir, mode) == 0) {
			/* our umask (077) would leave it 0700: other users
			 * could not reach the socket, nor the services' group
			 * read the store.  The mode asked for, exactly */
			if (chmod(dir, mode) != 0) {
				snprintf(err, errlen, "%s directory %.200s: %s",
				    what, dir, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "%s directory %.200s: %s", what,
			    dir, strerror(errno));
			return -1;
		}
	}
	if (lstat(dir, &st) != 0) {
		snprintf(err, errlen, "%s directory %.200s: %s", what, dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(err, errlen, "%s directory %.200s must be a directory owned "
		    "by root or us and not writable by group or others", what,
		    dir);
		return -1;
	}
	return 0;
}

/* A socket handed over by systemd (LISTEN_FDS), or -1. */
static int
systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int type = 0, fd = SD_LISTEN_FDS_START;
	socklen_t tlen = sizeof(type);
	uint64_t p, n;

	if (pid == NULL || fds == NULL ||
	    parse_u64(pid, 1, UINT32_MAX, &p) != 0 || p != (uint64_t)getpid() ||
	    parse_u64(fds, 1, 64, &n) != 0)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
	    type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0 ||
	    sa.sun_family != AF_UNIX)
		return -1;
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	int fd;

	if ((fd = unixsock_bind(path, SOCK_STREAM, 0666, "socket", err,
	    errlen)) < 0)
		return -1;
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* systemd's readiness protocol: one datagram to $NOTIFY_SOCKET. */
static void
sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

void
server_reload(struct server *sv)
{
	struct sat_config n;
	struct audit *a = NULL;
	char err[SAT_ERRMSG_MAX];
	size_t i;
	int r;

	sd_notify_msg("RELOADING=1");
	if (load_config(sv->config_path, sv->config_explicit, &n, err,
	    sizeof(err)) != 0) {
		dlog(LOG_ERR, "reload: %s; keeping the running configuration",
		    err);
		goto out;
	}
	/* the store and the socket are held open: they change on restart */
	if (strcmp(n.database, sv->cfg.database) != 0 ||
	    strcmp(n.socket, sv->cfg.socket) != 0)
		dlog(LOG_WARNING, "reload: database and socket changes take "
		    "effect on restart");
	/* the follower runs on what it started with (follower.c) */
	if ((n.directory == NULL) != (sv->cfg.directory == NULL) ||
	    (n.directory != NULL &&
	    strcmp(n.directory, sv->cfg.directory) != 0))
		dlog(LOG_WARNING, "reload: directory changes take effect on "
		    "restart");
	free(n.database);
	free(n.socket);
	if ((n.database = sat_strdup(sv->cfg.database)) == NULL ||
	    (n.socket = sat_strdup(sv->cfg.socket)) == NULL) {
		cfg_free(&n);
		goto out;
	}
	/* reopened even when unchanged: that is how a rotated file moves */
	if ((r = audit_open(n.audit, "satokend", &a)) != 0) {
		dlog(LOG_ERR, "reload: audit %s: %s; keeping the running "
		    "configuration", n.audit, sat_strerror(r));
		cfg_free(&n);
		goto out;
	}
	audit_close(sv->audit);
	sv->audit = a;
	cfg_free(&sv->cfg);
	sv->cfg = n;
	for (i = 0; i < sv->nconns; i++) {
		struct conn *c = sv->conns[i];

		(void)principal_from_uid(&sv->cfg, c->peer.uid, c->peer.gid,
		    &c->peer);
	}
	sv->purge_pos = 0;
	sv->purge_page = 0;
	sv->purge_next_ms = 0;
	sv->sweep_next_ms = 0;	/* retain_days may have changed */
	dlog(LOG_INFO, "configuration reloaded");
out:
	sd_notify_msg("READY=1");
}

/* How many connections we serve: MAX_CONNS, or what the descriptor
 * limit leaves after FD_RESERVE.  The soft limit is raised towards the
 * hard one first (epoll has no FD_SETSIZE; systemd's default soft limit
 * of 1024 is meant for select() users); a seccomp filter may deny
 * getrlimit: assume the usual 1024. */
static size_t
conn_bound(void)
{
	struct rlimit rl;
	rlim_t want = MAX_CONNS + FD_RESERVE, have = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		have = rl.rlim_cur;
		if (have != RLIM_INFINITY && have < want) {
			rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
			    rl.rlim_max > want ? want : rl.rlim_max;
			if (rl.rlim_cur > have && setrlimit(RLIMIT_NOFILE,
			    &rl) == 0)
				have = rl.rlim_cur;
		}
	}
	if (have == RLIM_INFINITY || have >= want)
		return MAX_CONNS;
	if (have < FD_RESERVE + 16)
		return 16;
	if (have < want)
		dlog(LOG_WARNING, "descriptor limit %llu: serving at most %llu "
		    "connections", (unsigned long long)have,
		    (unsigned long long)(have - FD_RESERVE));
	return (size_t)(have - FD_RESERVE);
}

/* Forks; the parent waits until the child is serving (or says why not)
 * so that "satokend && satokenctl ..." works. */
static int
daemonize(int *ret_ready_fd)
{
	char msg[512];
	int p[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n == 1 && msg[0] == '\0')
			_exit(0);
		if (n > 0) {
			msg[n] = '\0';
			fprintf(stderr, "satokend: %s\n", msg);
		}
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	*ret_ready_fd = p[1];
	return 0;
}

static void
fail_start(int ready_fd, const char *msg)
{
	if (ready_fd >= 0)
		(void)!write(ready_fd, msg, strlen(msg));
	else
		fprintf(stderr, "satokend: %s\n", msg);
	exit(1);
}

/* glibc reads nsswitch.conf at the first user lookup, OpenSSL 3
 * builds its library context (providers, their locks) at the first
 * HMAC and its random generator at the first RAND_bytes; all three
 * assert, crash or leak later when an allocation failed in there
 * (tests/reliability/t_daemonfault: a failed allocation while the DRBG
 * registered its cipher's names leaked them).  So the first of each is
 * made here, at start-up, and not in the first request that needs it
 * (an account's serial, a challenge, a backup's nonce). */
static int
warm_up(const struct sat_config *cfg)
{
	uint8_t key[TOKEN_KEY_LEN], digest[TOKEN_DIGEST_LEN];
	char token[TOKEN_LEN + 1];
	struct principal me;

	(void)principal_from_uid(cfg, getuid(), getgid(), &me);
	memset(key, 0, sizeof(key));
	memset(token, 'x', TOKEN_LEN);
	token[TOKEN_LEN] = '\0';
	if (RAND_bytes(key, 1) != 1)
		return -1;
	return token_digest(key, token, digest);
}

/* satokend --restore FILE: the daemon must be stopped (the store's
 * writer lock says whether it is).  Run as root, it reads FILE as root
 * (an admin's 0600 backup) and then writes the store as the owner of its
 * directory, satokend's user, so that no file of the store ends up
 * root's and unwritable by the daemon. */
static int
restore(const struct sat_config *cfg, const char *file)
{
	struct audit *au = NULL;
	struct audit_event ev;
	struct stat st;
	char err[SAT_ERRMSG_MAX], detail[160], when[32], *dir = NULL, *slash;
	char *p = NULL, *abs = NULL;
	size_t len = 0;
	uint64_t n = 0;
	int64_t taken = 0;
	int fd = -1, r, ret = 1;

	if ((abs = realpath(file, NULL)) == NULL) {
		fprintf(stderr, "satokend: --restore %s: %s\n", file,
		    strerror(errno));
		goto out;
	}
	if ((r = fileio_open(abs, O_RDONLY, 0, FILEIO_REGULAR, &fd)) != 0 ||
	    (r = fileio_slurp(fd, RESTORE_MAX, &p, &len)) != 0) {
		fprintf(stderr, "satokend: --restore %s: %s\n", file,
		    r == SAT_E_INVALID ? "larger than 1 GiB: not a backup" :
		    sat_strerror(r));
		goto out;
	}
	if (backup_check(p, len, &n, &taken, err, sizeof(err)) != 0) {
		fprintf(stderr, "satokend: --restore %s: %s; the store is "
		    "unchanged\n", file, err);
		goto out;
	}
	if ((dir = strdup(cfg->database)) == NULL)
		goto out;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	if (stat(dir, &st) != 0) {
		fprintf(stderr, "satokend: --restore: %s: %s\n", dir,
		    strerror(errno));
		goto out;
	}
	if (geteuid() == 0 && st.st_uid != 0 &&
	    (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0 ||
	    setuid(st.st_uid) != 0)) {
		fprintf(stderr, "satokend: --restore: cannot become the owner "
		    "of %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if ((r = audit_open(cfg->audit, "satokend", &au)) != 0) {
		fprintf(stderr, "satokend: --restore: audit %s: %s; the store "
		    "is unchanged\n", cfg->audit, sat_strerror(r));
		goto out;
	}
	r = backup_restore(cfg->database, (unsigned)cfg->lock_timeout_ms, p,
	    len);
	format_time(taken, when, sizeof(when));
	snprintf(detail, sizeof(detail), "records=%llu taken_at=%s",
	    (unsigned long long)n, when);
	memset(&ev, 0, sizeof(ev));
	ev.action = "restore";
	ev.outcome = r == 0 ? "ok" : "error";
	ev.reason = r == 0 ? NULL : sat_strerror(r);
	ev.principal = "satokend --restore";
	ev.detail = detail;
	if (audit_emit(au, &ev) != 0)
		fprintf(stderr, "satokend: --restore: cannot write the audit "
		    "line\n");
	if (r == SAT_E_CONFLICT) {
		fprintf(stderr, "satokend: --restore: satokend is running on "
		    "%s: stop it first; the store is unchanged\n",
		    cfg->database);
		goto out;
	}
	if (r != 0) {
		fprintf(stderr, "satokend: --restore: %s: %s; the store is "
		    "unchanged\n", cfg->database, sat_strerror(r));
		goto out;
	}
	printf("satokend: restored %s (%llu records, taken %s) into %s\n",
	    file, (unsigned long long)n, when, cfg->database);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	audit_close(au);
	sat_freezero(p, len);	/* it holds the HMAC key */
	free(dir);
	free(abs);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "restore", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct server sv;
	struct rlimit rl = { 0, 0 };
	size_t unwatched = 0;
	char err[SAT_ERRMSG_MAX + 64];
	const char *conf = NULL, *knob, *restore_file = NULL;
	char *abs_conf = NULL;
	uint64_t cp;
	int check = 0, ch, ready_fd = -1, activated = 0, r, null;
	sigset_t mask;

	memset(&sv, 0, sizeof(sv));
	sv.listen_fd = -1;
	while ((ch = getopt_long(argc, argv, "fc:ChVR:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': sv.foreground = 1; break;
		case 'c': conf = optarg; break;
		case 'C': check = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("satoken %s\n", SAT_VERSION); return 0;
		case 'R': restore_file = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf == NULL)
		conf = getenv("SATOKEN_CONF");
	sv.config_explicit = conf != NULL;
	/* kept for SIGHUP, after the daemon has moved to / */
	if (conf != NULL && conf[0] != '/' &&
	    (abs_conf = realpath(conf, NULL)) == NULL) {
		fprintf(stderr, "satokend: %s: %s\n", conf, strerror(errno));
		return 1;
	}
	if (abs_conf != NULL)
		conf = abs_conf;
	sv.config_path = conf != NULL ? conf : SAT_CONF_DEFAULT;
	if (load_config(sv.config_path, sv.config_explicit, &sv.cfg, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "satokend: %s\n", err);
		return 1;
	}
	if (restore_file != NULL) {
		r = restore(&sv.cfg, restore_file);
		cfg_free(&sv.cfg);
		free(abs_conf);
		return r;
	}
	if (check) {
		printf("satokend: configuration OK (database %s, socket %s)\n",
		    sv.cfg.database, sv.cfg.socket);
		cfg_free(&sv.cfg);
		return 0;
	}

	/* a core dump or a ptrace would hand out the HMAC key */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	/* a file-size limit (ulimit -f, LimitFSIZE=) must fail the write with
	 * EFBIG, which refuses that one commit, not kill the daemon */
	signal(SIGXFSZ, SIG_IGN);
	jsonmem_init();

	if (!sv.foreground && daemonize(&ready_fd) != 0) {
		fprintf(stderr, "satokend: fork: %s\n", strerror(errno));
		return 1;
	}
	dlog_init(sv.foreground);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (sv.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fail_start(ready_fd, "signalfd failed");

	if ((sv.listen_fd = systemd_socket()) >= 0)
		activated = 1;
	if (check_dir(sv.cfg.database, 0750, "state", err, sizeof(err)) != 0 ||
	    (!activated &&
	    check_dir(sv.cfg.socket, 0755, "socket", err, sizeof(err)) != 0))
		fail_start(ready_fd, err);
	if ((r = audit_open(sv.cfg.audit, "satokend", &sv.audit)) != 0) {
		snprintf(err, sizeof(err), "audit %s: %s", sv.cfg.audit,
		    sat_strerror(r));
		fail_start(ready_fd, err);
	}
	if (ratelimit_new(throttle_report, &sv, &sv.rl) != 0)
		fail_start(ready_fd, "out of memory");
	sv.st.cfg = &sv.cfg;
	sv.st.metrics = &sv.metrics;
	r = store_open_writer(sv.cfg.database, (unsigned)sv.cfg.lock_timeout_ms,
	    &sv.st.store);
	if (r != 0) {
		snprintf(err, sizeof(err), "store %s: %s", sv.cfg.database,
		    r == SAT_E_CONFLICT ? "held by another writer (is satokend "
		    "already running?)" : sat_strerror(r));
		fail_start(ready_fd, err);
	}
	if (store_recovered(sv.st.store))
		dlog(LOG_WARNING, "store %s: the last writer did not stop cleanly; "
		    "rebuilt from its base copy and journal", sv.cfg.database);
	/* tests make checkpoints frequent, to kill the daemon inside them */
	if ((knob = getenv("SATOKEND_CHECKPOINT_BYTES")) != NULL &&
	    parse_u64(knob, 1, UINT32_MAX, &cp) == 0)
		store_set_checkpoint_bytes(sv.st.store, cp);
	/* tests make backup replies small, to take a copy in many */
	if ((knob = getenv("SATOKEND_BACKUP_CHUNK")) != NULL &&
	    parse_u64(knob, 1, UINT32_MAX, &cp) == 0)
		ops_backup_set_chunk((size_t)cp);
	if (ops_load_names(&sv.st) != 0)
		fail_start(ready_fd, "store: cannot list accounts and groups");
	if (ops_token_upgrade(&sv.st, err, sizeof(err)) != 0)
		fail_start(ready_fd, err);
	if (sv.cfg.directory != NULL &&
	    fleet_start(&sv, &sv.fleet, err, sizeof(err)) != 0)
		fail_start(ready_fd, err);
	sv.st.follows = sv.fleet != NULL;
	if (sv.fleet != NULL && sv.cfg.directory_role == SAT_FLEET_CONTROL &&
	    control_new(&sv.cfg, &sv.st.control) != 0)
		fail_start(ready_fd, "out of memory");
	if (sv.fleet != NULL &&
	    hostsread_new(&sv.cfg, fleet_self, sv.fleet, &sv.st.hosts) != 0)
		fail_start(ready_fd, "out of memory");
	if (control_bg_load(&sv) != 0)
		fail_start(ready_fd, "store: cannot read the changes still to "
		    "be written to the directory");
	if (warm_up(&sv.cfg) != 0)
		fail_start(ready_fd, "cannot seed the random generator or compute an HMAC (OpenSSL)");
	if (!activated &&
	    (sv.listen_fd = listen_unix(sv.cfg.socket, err, sizeof(err))) < 0)
		fail_start(ready_fd, err);
	if (usage_open(&sv, err, sizeof(err)) != 0)
		fail_start(ready_fd, err);
	sv.max_conns = conn_bound();
	sv.ep_fd = -1;
	/* workload identity: the canary socket; bound tokens whose process
	 * died while we were down are revoked before anyone is served */
	if (canary_open(&sv, err, sizeof(err)) != 0)
		fail_start(ready_fd, err);
	if (bindpid_start(&sv, &unwatched, err, sizeof(err)) != 0)
		fail_start(ready_fd, err);
	if (unwatched > 0)
		dlog(LOG_ERR, "bind-pid: %zu bound tokens past %d processes are "
		    "not watched until the next start", unwatched, BINDPID_MAX);

	dlog(LOG_INFO, "serving %s on %s (%zu accounts, %zu groups)",
	    sv.cfg.database, activated ? "a systemd socket" : sv.cfg.socket,
	    sv.st.accounts.n, sv.st.groups.n);
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "", 1);
		close(ready_fd);
		if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		if (chdir("/") != 0)
			dlog(LOG_WARNING, "chdir /: %s", strerror(errno));
	}
	sd_notify_msg("READY=1");

	r = server_loop(&sv);
	control_free(sv.st.control);
	hostsread_free(sv.st.hosts);
	fleet_stop(sv.fleet);

	sd_notify_msg("STOPPING=1");
	canary_close(&sv);
	bindpid_stop();
	close(sv.listen_fd);
	if (!activated)
		(void)unlink(sv.cfg.socket);
	usage_close(&sv);
	store_close(sv.st.store);
	names_free(&sv.st.accounts);
	names_free(&sv.st.groups);
	ratelimit_free(sv.rl);
	dlog(LOG_INFO, "stopped");
	audit_close(sv.audit);
	free(sv.conns);
	cfg_free(&sv.cfg);
	close(sv.sig_fd);
	free(abs_conf);
	return r == 0 ? 0 : 1;
}
