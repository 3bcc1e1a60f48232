/* fleettok: a token minted the way a control host mints one, for tests
 * that write the directory by hand.
 *
 *   fleettok KEYFILE TOKENFILE [COUNT]
 *
 * KEYFILE holds the fleet's 32-byte HMAC key (raw).  Writes a new token
 * to TOKENFILE (mode 0600, with a newline) and prints its id and the
 * base64 of its digest, "ID DIGEST", for the satokenToken entry.  With
 * COUNT, mints that many and prints a line for each; TOKENFILE holds
 * the last (a bench filling the directory needs no other). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mem.h"
#include "token.h"

int
main(int argc, char **argv)
{
	uint8_t key[TOKEN_KEY_LEN], dg[TOKEN_DIGEST_LEN];
	unsigned char b64[64];
	char tok[TOKEN_LEN + 2], id[TOKEN_ID_LEN + 1];
	FILE *kf;
	long count = 1, i;
	int fd, r = 1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fleettok KEYFILE TOKENFILE [COUNT]\n");
		return 2;
	}
	if (argc == 4 && ((count = atol(argv[3])) < 1 || count > 10000000)) {
		fprintf(stderr, "fleettok: COUNT: 1 to 10000000\n");
		return 2;
	}
	if ((kf = fopen(argv[1], "rb")) == NULL ||
	    fread(key, 1, sizeof(key), kf) != sizeof(key)) {
		fprintf(stderr, "fleettok: %s: not a 32-byte key\n", argv[1]);
		return 1;
	}
	fclose(kf);
	for (i = 0; i < count; i++) {
		if (token_generate(tok) != 0 ||
		    token_parse(tok, TOKEN_LEN, id) != 0 ||
		    token_digest(key, tok, dg) != 0)
			goto out;
		EVP_EncodeBlock(b64, dg, sizeof(dg));
		if (i + 1 < count)
			printf("%s %s\n", id, b64);
	}
	tok[TOKEN_LEN] = '\n';
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, tok, TOKEN_LEN + 1) != TOKEN_LEN + 1) {
		perror(argv[2]);
		goto out;
	}
	close(fd);
	printf("%s %s\n", id, b64);
	r = 0;
out:
	sat_wipe(tok, sizeof(tok));
	sat_wipe(key, sizeof(key));
	return r;
}
