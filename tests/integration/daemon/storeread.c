/* storeread: a test helper that reads the store the way the PAM module
 * and the SASL plugin do: a fresh read-only handle per check, the one
 * verification decision, no daemon.  It proves that what satokend
 * acknowledged is in the GDBM file itself.  Never installed.
 *
 *   storeread DB < "ACCOUNT TOKEN" lines     prints one reason per line
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "mem.h"
#include "store.h"
#include "verify.h"

int
main(int argc, char **argv)
{
	char line[512], *sp;
	struct verify_request vr;
	struct verify_result res;
	struct store *s;
	size_t n;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: storeread DB < 'ACCOUNT TOKEN' lines\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = strcspn(line, "\n");
		line[n] = '\0';
		if ((sp = strchr(line, ' ')) == NULL) {
			puts("usage");
			continue;
		}
		*sp++ = '\0';
		memset(&vr, 0, sizeof(vr));
		vr.account = line;
		vr.token = sp;
		vr.token_len = strlen(sp);
		vr.now = (int64_t)time(NULL);
		r = store_open_reader(argv[1], 1000, &s);
		if (r == 0) {
			r = verify_token(s, &vr, &res);
			store_close(s);
		}
		puts(r != 0 ? "store_error" : verify_reason_name(res.reason));
		fflush(stdout);
		sat_wipe(line, sizeof(line));
	}
	return 0;
}
