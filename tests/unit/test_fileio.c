/* The one way files are opened. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"

static void
test_checks_on_the_descriptor(void **state)
{
	char *dir = tu_tmpdir(), *f = tu_path(dir, "f"), *l = tu_path(dir, "l");
	char *fifo = tu_path(dir, "p"), *text;
	size_t len;
	int fd;

	(void)state;
	assert_int_equal(fileio_open(f, O_RDONLY, 0, FILEIO_REGULAR, &fd),
	    SAT_E_NOTFOUND);
	assert_int_equal(fileio_open(f, O_WRONLY | O_CREAT, 0600, FILEIO_REGULAR,
	    &fd), 0);
	assert_int_equal(fileio_write_all(fd, "hello", 5), 0);
	close(fd);
	assert_int_equal(fileio_open("relative", O_RDONLY, 0, 0, &fd), SAT_E_INVALID);
	assert_int_equal(symlink(f, l), 0);
	assert_int_equal(fileio_open(l, O_RDONLY, 0, 0, &fd), SAT_E_FILEPERM);
	assert_int_equal(fileio_open(dir, O_RDONLY, 0, FILEIO_REGULAR, &fd),
	    SAT_E_FILEPERM);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* a FIFO with no writer must be refused, not hang the open */
	assert_int_equal(fileio_open(fifo, O_RDONLY, 0, FILEIO_REGULAR, &fd),
	    SAT_E_FILEPERM);
	assert_int_equal(chmod(f, 0620), 0);
	assert_int_equal(fileio_open(f, O_RDONLY, 0, FILEIO_NOT_WRITABLE, &fd),
	    SAT_E_FILEPERM);
	assert_int_equal(chmod(f, 0602), 0);
	assert_int_equal(fileio_open(f, O_RDONLY, 0, FILEIO_NOT_WRITABLE, &fd),
	    SAT_E_FILEPERM);
	assert_int_equal(chmod(f, 0644), 0);
	assert_int_equal(fileio_open(f, O_RDONLY, 0, FILEIO_REGULAR |
	    FILEIO_NOT_WRITABLE | FILEIO_OWNER_TRUSTED, &fd), 0);
	/* the cap on size is enforced */
	assert_int_equal(fileio_slurp(fd, 4, &text, &len), SAT_E_INVALID);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fileio_slurp(fd, 5, &text, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(text, "hello");
	free(text);
	close(fd);
	free(f);
	free(l);
	free(fifo);
	tu_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks_on_the_descriptor),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
