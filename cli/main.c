/* satokenctl: main and the options every command takes; the commands
 * are run.c's, the connection call.c's. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "jsonmem.h"
#include "mem.h"
#include "valid.h"
#include "version.h"

int
main(int argc, char **argv)
{
	struct ctl c;
	int i = 1, r;

	jsonmem_init();
	/* JSON carries only UTF-8: say so, rather than fail later as if
	 * memory had run out */
	for (i = 1; i < argc; i++)
		if (!valid_utf8(argv[i], strlen(argv[i])))
			return ctl_error("VALIDATION", "argument %d is not valid "
			    "UTF-8", i);
	i = 1;
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	/* options before the command; each command also takes them */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(a, "--version") == 0) {
			printf("satoken %s\n", SAT_VERSION);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			ctl_usage(stdout);
			return 0;
		} else if ((strcmp(a, "--socket") == 0 ||
		    strcmp(a, "--token-file") == 0) && i + 1 < argc) {
			if (a[2] == 's')
				c.socket = argv[++i];
			else
				c.token_file = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			c.socket = a + 9;
		} else if (strncmp(a, "--token-file=", 13) == 0) {
			c.token_file = a + 13;
		} else {
			return ctl_error("VALIDATION", "unknown option %s "
			    "(satokenctl --help)", a);
		}
	}
	if (i >= argc)
		return ctl_error("VALIDATION", "no command given (satokenctl "
		    "--help lists them)");
	r = ctl_run(&c, argc - i, argv + i);
	/* the change was made and reported: --wait's verdict is the exit */
	if (r == 0)
		r = c.wait_rc;
	ctl_wait_free(&c);
	if (c.fd >= 0)
		close(c.fd);
	sat_free_secret_str(c.auth_token);
	sat_freezero(c.rbuf, c.rcap);
	return r;
}
