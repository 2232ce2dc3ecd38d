/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds for (6.1 to 6.12).
 * Every version test lives here.
 */
#ifndef _GIL_COMPAT_H
#define _GIL_COMPAT_H

#include <linux/kconfig.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/version.h>

/* 6.3 (bc292ab00f6c) made vm_flags read-only behind vm_flags_*(). */
static inline void gil_vm_flags_mod(struct vm_area_struct *vma,
				    vm_flags_t set, vm_flags_t clear)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * GIL_OPT_PREEMPT_AWARE reads the scheduler's run-delay accounting
 * (sched_info, CONFIG_SCHED_INFO) without the runqueue's lock, which only
 * a 64-bit load keeps whole.
 */
#if defined(CONFIG_SCHED_INFO) && BITS_PER_LONG == 64
#define GIL_HAVE_RUN_DELAY 1
#else
#define GIL_HAVE_RUN_DELAY 0
#endif

/*
 * GIL_OPT_PRIO_INHERIT sets the holder's policy, which, unlike an
 * rt_mutex's boost, a real-time group's runtime (perhaps none) throttles.
 */
#define GIL_HAVE_PRIO_INHERIT	(!IS_ENABLED(CONFIG_RT_GROUP_SCHED))

/*
 * A fair task's own time slice, which sched_setattr() sets through
 * sched_runtime since 6.12 (857b158dc5e8); 0: the default.
 */
static inline u64 gil_task_fair_slice(const struct task_struct *task)
{
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
	return task->se.custom_slice ? task->se.slice : 0;
#else
	return 0;
#endif
}

#endif /* _GIL_COMPAT_H */
