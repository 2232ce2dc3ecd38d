// SPDX-License-Identifier: MIT
/* gil-info: open /dev/gil and print what the module reports about itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/gil.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/gil";
	struct gil_version v;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "gil-info: %s: %s (is gil.ko loaded?)\n", path,
			strerror(errno));
		return 1;
	}
	if (ioctl(fd, GIL_IOC_GET_VERSION, &v)) {
		fprintf(stderr, "gil-info: GIL_IOC_GET_VERSION: %s\n",
			strerror(errno));
		return 1;
	}
	printf("%s: kgil ABI version %u.%u (this program was built for %u.%u)\n",
	       path, v.major, v.minor, GIL_ABI_MAJOR, GIL_ABI_MINOR);
	close(fd);
	return 0;
}
