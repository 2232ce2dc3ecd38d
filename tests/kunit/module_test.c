// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the module as userspace sees it after init, the GIL object
 * lifetime behind open/release, its fdinfo, and the version ioctl path,
 * including the copy to user memory.
 *
 * Linked into gil.ko when built with GIL_KUNIT=y; the suites run when the
 * module is loaded into a kernel with CONFIG_KUNIT=y, before its init
 * function, so the suite sets the module up and tears it down itself.
 */
#include <kunit/test.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "gil.h"

/*
 * Test cases run in kthreads, which have no user address space.  Borrow
 * the mm of the process that loads the module (it sleeps in init_module
 * while the suites run) to get real user memory for the ioctl arguments.
 */
static struct mm_struct *loader_mm;

static int gil_module_suite_init(struct kunit_suite *suite)
{
	int ret;

	if (!current->mm)
		return -EINVAL;
	ret = gil_module_setup();
	if (ret)
		return ret;
	mmget(current->mm);
	loader_mm = current->mm;
	return 0;
}

static void gil_module_suite_exit(struct kunit_suite *suite)
{
	mmput(loader_mm);
	loader_mm = NULL;
	gil_module_teardown();
}

static struct file *open_dev_gil(struct kunit *test)
{
	struct file *file = filp_open("/dev/gil", O_RDWR, 0);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "open /dev/gil: %ld",
			       PTR_ERR(file));
	return file;
}

/* filp_close() from a kthread defers the final fput; finish it now. */
static void close_dev_gil(struct file *file)
{
	filp_close(file, NULL);
	flush_delayed_fput();
}

static void gil_test_device_registered(struct kunit *test)
{
	struct file *file = open_dev_gil(test);

	KUNIT_EXPECT_TRUE(test, S_ISCHR(file_inode(file)->i_mode));
	KUNIT_EXPECT_PTR_EQ(test, file->f_op->owner, THIS_MODULE);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, file->private_data);
	close_dev_gil(file);
}

static void gil_test_teardown_removes_device(struct kunit *test)
{
	struct file *file;

	gil_module_teardown();
	file = filp_open("/dev/gil", O_RDWR, 0);
	KUNIT_EXPECT_PTR_EQ(test, file, ERR_PTR(-ENOENT));
	if (!IS_ERR(file))
		close_dev_gil(file);

	/* Set up again, as module init does: the device comes back. */
	KUNIT_ASSERT_EQ(test, gil_module_setup(), 0);
	file = open_dev_gil(test);
	close_dev_gil(file);
}

static void gil_test_open_creates_independent_gils(struct kunit *test)
{
	long before = gil_live_count();
	struct file *a = open_dev_gil(test);
	struct file *b = open_dev_gil(test);
	struct gil *ga = a->private_data, *gb = b->private_data;

	KUNIT_EXPECT_EQ(test, gil_live_count(), before + 2);
	KUNIT_EXPECT_PTR_NE(test, ga, gb);
	KUNIT_EXPECT_NE(test, ga->id, gb->id);
	close_dev_gil(a);
	close_dev_gil(b);
}

static void gil_test_release_frees_the_gil(struct kunit *test)
{
	long before = gil_live_count();
	struct file *file = open_dev_gil(test);

	KUNIT_EXPECT_EQ(test, gil_live_count(), before + 1);
	close_dev_gil(file);
	KUNIT_EXPECT_EQ(test, gil_live_count(), before);
}

struct ioctl_result {
	long ret;
	unsigned long uncopied;
	struct gil_version ver;
};

/* Call the ioctl with an argument in real user memory. */
static int ioctl_in_user_memory(struct file *file, unsigned int cmd,
				struct ioctl_result *res)
{
	unsigned long addr;

	kthread_use_mm(loader_mm);
	addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(addr)) {
		kthread_unuse_mm(loader_mm);
		return (int)addr;
	}
	res->ret = file->f_op->unlocked_ioctl(file, cmd, addr);
	res->uncopied = copy_from_user(&res->ver, (void __user *)addr,
				       sizeof(res->ver));
	vm_munmap(addr, PAGE_SIZE);
	kthread_unuse_mm(loader_mm);
	return 0;
}

static void gil_test_version_ioctl(struct kunit *test)
{
	struct file *file = open_dev_gil(test);
	struct ioctl_result res = { };

	KUNIT_ASSERT_EQ(test, ioctl_in_user_memory(file, GIL_IOC_GET_VERSION,
						   &res), 0);
	KUNIT_EXPECT_EQ(test, res.ret, 0);
	KUNIT_EXPECT_EQ(test, res.uncopied, 0);
	KUNIT_EXPECT_EQ(test, res.ver.major, GIL_ABI_MAJOR);
	KUNIT_EXPECT_EQ(test, res.ver.minor, GIL_ABI_MINOR);
	close_dev_gil(file);
}

static void gil_test_version_ioctl_bad_pointer(struct kunit *test)
{
	struct file *file = open_dev_gil(test);
	long ret;

	/* No user address space at all in this kthread: nothing is mapped. */
	ret = file->f_op->unlocked_ioctl(file, GIL_IOC_GET_VERSION, 4096);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	close_dev_gil(file);
}

static void gil_test_unknown_ioctl(struct kunit *test)
{
	struct file *file = open_dev_gil(test);
	const unsigned int bad[] = {
		0,
		_IO(GIL_IOC_MAGIC, 0x7f),
		_IOW(GIL_IOC_MAGIC, 0x00, struct gil_version),
		_IOR('x', 0x00, struct gil_version),
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ(test, file->f_op->unlocked_ioctl(file, bad[i], 0),
				-ENOTTY);
	close_dev_gil(file);
}

/*
 * The fdinfo lines of @file, into @buf, as a read of procfs (@proc, a file
 * of it: its pid namespace is the reader's) shows them.
 */
static void gil_fdinfo(struct file *proc, struct file *file, char *buf,
		       size_t size)
{
	struct seq_file m = { .buf = buf, .size = size, .file = proc };

	file->f_op->show_fdinfo(&m, file);
	buf[min(m.count, size - 1)] = 0;
}

/*
 * A descriptor's fdinfo names its GIL and shows its state and counters,
 * attached threads among them.
 */
static void gil_test_fdinfo(struct kunit *test)
{
	const size_t size = 2048;
	char *buf = kunit_kzalloc(test, size, GFP_KERNEL);
	struct file *file, *proc;
	struct gil *gil;
	char line[40];

	KUNIT_ASSERT_NOT_NULL(test, buf);
	proc = filp_open("/proc/version", O_RDONLY, 0);
	if (IS_ERR(proc))
		kunit_skip(test, "no procfs at /proc");
	file = open_dev_gil(test);
	gil = file->private_data;
	KUNIT_ASSERT_EQ(test, gil_attach(gil), 0);
	gil_fdinfo(proc, file, buf, size);
	snprintf(line, sizeof(line), "id:\t%llu\n", gil->id);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, line));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nthreads:\t1\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nlocked:\t0\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\ninterval_us:\t5000\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\npolicy:\tcpython\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nacquisitions:\t0\n"));
	snprintf(line, sizeof(line), "\nopener_pid:\t%d\n",
		 task_tgid_nr(current));
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, line));
	KUNIT_EXPECT_EQ(test, gil_detach(gil), 0);
	gil_fdinfo(proc, file, buf, size);
	KUNIT_EXPECT_NOT_NULL(test, strstr(buf, "\nthreads:\t0\n"));
	close_dev_gil(file);
	filp_close(proc, NULL);
}

static void gil_test_fill_version(struct kunit *test)
{
	struct gil_version ver = { .major = ~0u, .minor = ~0u };

	gil_fill_version(&ver);
	KUNIT_EXPECT_EQ(test, ver.major, GIL_ABI_MAJOR);
	KUNIT_EXPECT_EQ(test, ver.minor, GIL_ABI_MINOR);
}

static struct kunit_case gil_module_cases[] = {
	KUNIT_CASE(gil_test_device_registered),
	KUNIT_CASE(gil_test_teardown_removes_device),
	KUNIT_CASE(gil_test_open_creates_independent_gils),
	KUNIT_CASE(gil_test_release_frees_the_gil),
	KUNIT_CASE(gil_test_fdinfo),
	KUNIT_CASE(gil_test_fill_version),
	KUNIT_CASE(gil_test_version_ioctl),
	KUNIT_CASE(gil_test_version_ioctl_bad_pointer),
	KUNIT_CASE(gil_test_unknown_ioctl),
	{}
};

static struct kunit_suite gil_module_suite = {
	.name = "gil_module",
	.suite_init = gil_module_suite_init,
	.suite_exit = gil_module_suite_exit,
	.test_cases = gil_module_cases,
};

kunit_test_suite(gil_module_suite);
