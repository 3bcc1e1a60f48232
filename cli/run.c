/* satokenctl: finding the command, its options, its --help. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "num.h"

#define WAIT_DEFAULT	"5s"
#define WAIT_MIN_S	1
#define WAIT_MAX_S	3600

/* A usage folded onto one line, for an error message. */
static const char *
one_line(const char *usage, char *out, size_t cap)
{
	size_t n = 0;
	int blank = 0;

	for (; *usage != '\0' && n + 1 < cap; usage++) {
		if (*usage == '\n' || *usage == ' ') {
			blank = n > 0;
			continue;
		}
		if (blank && n + 2 < cap)
			out[n++] = ' ';
		blank = 0;
		out[n++] = *usage;
	}
	out[n] = '\0';
	return out;
}

static void
cmd_help(FILE *f, const struct cmd *cmd)
{
	fprintf(f, "usage: satokenctl [--socket PATH] [--json] "
	    "[--token-file FILE]\n         %s%s\n\n%s\n", cmd->usage,
	    cmd->opts & O_WAIT ? "\n                 [--wait[=DURATION]]" : "",
	    cmd->help);
	if (cmd->opts & O_WAIT)
		fprintf(f, "\n--wait: on a fleet's control host, returns once "
		    "every host has applied\nthe change (default "
		    WAIT_DEFAULT "), or names those that have not and exits 9\n"
		    "(NOT_CONFIRMED; the change itself is made).\n");
}

void
ctl_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: satokenctl [--socket PATH] [--json] "
	    "[--token-file FILE] COMMAND\n\n"
	    "  --socket PATH      satokend's socket (default: the socket key "
	    "of\n"
	    "                     $SATOKEN_CONF or " SAT_CONF_DEFAULT ")\n"
	    "  --json             print the daemon's JSON reply\n"
	    "  --token-file FILE  act as the service account whose token FILE "
	    "holds\n"
	    "  --version          print the version (satoken X.Y.Z)\n\n"
	    "commands:\n");
	for (i = 0; i < ctl_ncmds; i++)
		fprintf(f, "  %s\n", ctl_cmds[i].usage);
	fprintf(f, "\n'satokenctl COMMAND --help' explains one command.  Exit "
	    "codes: 0 ok, 1 unavailable,\n2 validation, 3 permission denied, "
	    "4 not found, 5 conflict, 6 quota, 7 throttled, 8 read-only (a fleet\n"
	    "follower), 9 not confirmed (--wait).\n");
}

static void
group_usage(FILE *f, const char *group)
{
	size_t i;

	fprintf(f, "usage:\n");
	for (i = 0; i < ctl_ncmds; i++)
		if (ctl_cmds[i].group != NULL && strcmp(ctl_cmds[i].group, group) == 0)
			fprintf(f, "  satokenctl %s\n", ctl_cmds[i].usage);
}

static const struct {
	const char *name;
	unsigned bit;
	int has_arg;
	int val;
} all_opts[] = {
	{ "role", O_ROLE, 1, 'r' }, { "group", O_GROUP, 1, 'g' },
	{ "owner", O_OWNER, 1, 'o' }, { "description", O_DESC, 1, 'd' },
	{ "days-valid", O_DAYS, 1, 'D' }, { "public-key", O_PUBKEY, 1, 'k' },
	{ "external-id", O_EXTID, 1, 'x' }, { "name", O_NAME, 1, 'n' },
	{ "ttl", O_TTL, 1, 't' }, { "service", O_SERVICE, 1, 's' },
	{ "from", O_FROM, 1, 'f' }, { "grace", O_GRACE, 1, 'G' },
	{ "old-expires", O_OLDEXP, 1, 'E' }, { "limit", O_PAGE, 1, 'l' },
	{ "cursor", O_PAGE, 1, 'C' }, { "output", O_OUTPUT, 1, 'O' },
	{ "yes", O_YES, 0, 'y' },
	{ "status", O_FILTER, 1, 'u' }, { "expiring", O_FILTER, 1, 'e' },
	{ "unused-for", O_FILTER, 1, 'U' },
	{ "canary", O_CANARY, 0, 'Y' }, { "bind-pid", O_BINDPID, 1, 'P' },
	{ "self", O_SELF, 0, 'Z' }, { "key", O_SELF, 1, 'K' },
	{ "revoke", O_REVOKE, 0, 'R' },
	{ "max-offline", O_MAXOFF, 1, 'M' },
	{ "wait", O_WAIT, 2, 'W' },	/* --wait or --wait=DURATION */
	/* every command also takes the global ones */
	{ "json", 0, 0, 'j' }, { "socket", 0, 1, 'S' },
	{ "token-file", 0, 1, 'T' }, { "help", 0, 0, 'h' },
};
#define NOPTS (sizeof(all_opts) / sizeof(all_opts[0]))

static int
parse_opts(struct ctl *c, const struct cmd *cmd, int argc, char **argv,
    struct opts *o, int *ret_help)
{
	struct option lo[NOPTS + 1];
	size_t i, n = 0;
	int ch, r = 0;

	for (i = 0; i < NOPTS; i++) {
		if (all_opts[i].bit != 0 && !(cmd->opts & all_opts[i].bit))
			continue;
		lo[n].name = all_opts[i].name;
		lo[n].has_arg = all_opts[i].has_arg == 2 ? optional_argument :
		    all_opts[i].has_arg ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = all_opts[i].val;
		n++;
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	opterr = 0;
	optind = 0;	/* GNU: start over with this argv */
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1 &&
	    r == 0) {
		switch (ch) {
		case 'r': o->role = optarg; break;
		case 'g': r = strlist_add_unique(&o->groups, optarg); break;
		case 'o': o->owner = optarg; break;
		case 'd': o->description = optarg; break;
		case 'D': o->days_valid = optarg; break;
		case 'k': o->public_key = optarg; break;
		case 'x': o->external_id = optarg; break;
		case 'n': o->name = optarg; break;
		case 't': o->ttl = optarg; break;
		case 's': r = strlist_add_unique(&o->services, optarg); break;
		case 'f': r = strlist_add_unique(&o->froms, optarg); break;
		case 'G': o->grace = optarg; break;
		case 'E': o->old_expires = optarg; break;
		case 'l': o->limit = optarg; break;
		case 'C': o->cursor = optarg; break;
		case 'O': o->output = optarg; break;
		case 'y': o->yes = 1; break;
		case 'u': o->status = optarg; break;
		case 'e': o->expiring = optarg; break;
		case 'U': o->unused_for = optarg; break;
		case 'Y': o->canary = 1; break;
		case 'P': o->bind_pid = optarg; break;
		case 'M': o->max_offline = optarg; break;
		case 'W': o->wait = optarg != NULL ? optarg : WAIT_DEFAULT;
			break;
		case 'Z': o->self = 1; break;
		case 'K': o->key = optarg; break;
		case 'R': o->revoke = 1; break;
		case 'j': c->json = 1; break;
		case 'S': c->socket = optarg; break;
		case 'T': c->token_file = optarg; break;
		case 'h': *ret_help = 1; break;
		case ':':
			return ctl_error("VALIDATION", "%s needs a value (see "
			    "satokenctl %s%s%s --help)", argv[optind - 1],
			    cmd->group != NULL ? cmd->group : "",
			    cmd->group != NULL ? " " : "", cmd->name);
		default:
			return ctl_error("VALIDATION", "unknown option %s for "
			    "'%s%s%s' (see --help)", argv[optind - 1],
			    cmd->group != NULL ? cmd->group : "",
			    cmd->group != NULL ? " " : "", cmd->name);
		}
	}
	if (r != 0)
		return ctl_nomem();
	if (o->wait != NULL) {
		uint64_t s;

		if (parse_duration(o->wait, WAIT_MIN_S, WAIT_MAX_S, &s) != 0)
			return ctl_error("VALIDATION", "--wait=%s: a duration "
			    "from 1s to 1h (default " WAIT_DEFAULT ")", o->wait);
		c->wait_ms = (int64_t)s * 1000;
	}
	o->pos = argv + optind;
	o->npos = argc - optind;
	return 0;
}

int
ctl_run(struct ctl *c, int argc, char **argv)
{
	const struct cmd *cmd = NULL;
	struct opts o;
	char u[512];
	size_t i;
	int help = 0, known_group = 0, r, skip;

	for (i = 0; i < ctl_ncmds && cmd == NULL; i++) {
		if (ctl_cmds[i].group == NULL) {
			if (strcmp(ctl_cmds[i].name, argv[0]) == 0)
				cmd = &ctl_cmds[i];
		} else if (strcmp(ctl_cmds[i].group, argv[0]) == 0) {
			known_group = 1;
			if (argc > 1 && strcmp(ctl_cmds[i].name, argv[1]) == 0)
				cmd = &ctl_cmds[i];
		}
	}
	if (cmd == NULL && known_group) {
		if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			group_usage(stdout, argv[0]);
			return 0;
		}
		/* errors are one line: the list is one --help away */
		if (argc > 1)
			return ctl_error("VALIDATION", "unknown command '%s %s' "
			    "(satokenctl %s --help lists them)", argv[0], argv[1],
			    argv[0]);
		return ctl_error("VALIDATION", "'%s' needs a command "
		    "(satokenctl %s --help lists them)", argv[0], argv[0]);
	}
	if (cmd == NULL) {
		if (strcmp(argv[0], "help") == 0) {
			ctl_usage(stdout);
			return 0;
		}
		return ctl_error("VALIDATION", "unknown command '%s' (satokenctl "
		    "--help lists them)", argv[0]);
	}
	memset(&o, 0, sizeof(o));
	/* getopt wants argv[0] to be a name: hand it the command word */
	skip = cmd->group != NULL ? 1 : 0;
	r = parse_opts(c, cmd, argc - skip, argv + skip, &o, &help);
	if (r == 0 && help) {
		cmd_help(stdout, cmd);
	} else if (r == 0 && (o.npos < cmd->min_pos ||
	    (cmd->max_pos >= 0 && o.npos > cmd->max_pos))) {
		r = ctl_error("VALIDATION", "wrong number of arguments; usage: "
		    "satokenctl %s", one_line(cmd->usage, u, sizeof(u)));
	} else if (r == 0) {
		r = cmd->run(c, cmd, &o);
	}
	strlist_free(&o.groups);
	strlist_free(&o.services);
	strlist_free(&o.froms);
	return r;
}
