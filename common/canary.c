#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "canary.h"
#include "err.h"
#include "token.h"

int
canary_socket_path(const struct sat_config *cfg, char *out, size_t cap)
{
	const char *slash;
	int n;

	if (cfg->socket == NULL || (slash = strrchr(cfg->socket, '/')) == NULL)
		return SAT_E_INVALID;
	n = snprintf(out, cap, "%.*s/%s", (int)(slash - cfg->socket),
	    cfg->socket, CANARY_SOCKET_NAME);
	return n < 0 || (size_t)n >= cap ? SAT_E_INVALID : 0;
}

void
canary_report(const struct sat_config *cfg, const char *token, size_t len)
{
	struct sockaddr_un sa;
	int fd;

	if (len != TOKEN_LEN)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (canary_socket_path(cfg, sa.sun_path, sizeof(sa.sun_path)) != 0)
		return;
	/* a login never waits for the daemon: a full queue drops it */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return;
	(void)sendto(fd, token, len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
}
