// SPDX-License-Identifier: MIT
/* gil-info: open /dev/gil and print what the module reports about a new GIL. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/gil.h>

static int fail(const char *what)
{
	fprintf(stderr, "gil-info: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/gil";
	long page_size = sysconf(_SC_PAGESIZE);
	const struct gil_page *page;
	struct gil_version v;
	long long interval_us;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "gil-info: %s: %s (is gil.ko loaded?)\n", path,
			strerror(errno));
		return 1;
	}
	if (ioctl(fd, GIL_IOC_GET_VERSION, &v))
		return fail("GIL_IOC_GET_VERSION");
	if (ioctl(fd, GIL_IOC_GET_INTERVAL, &interval_us))
		return fail("GIL_IOC_GET_INTERVAL");
	page = mmap(NULL, page_size, PROT_READ, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return fail("mmap");

	printf("%s: kgil ABI version %u.%u (this program was built for %u.%u)\n",
	       path, v.major, v.minor, GIL_ABI_MAJOR, GIL_ABI_MINOR);
	printf("switch interval of a new GIL: %lld us\n", interval_us);
	printf("shared page: %u bytes, locked %u, switch_number %llu, eval_breaker %#x\n",
	       page->size, page->locked,
	       (unsigned long long)page->switch_number, page->eval_breaker);
	munmap((void *)page, page_size);
	close(fd);
	return 0;
}
