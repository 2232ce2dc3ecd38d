/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds for (6.1 to 6.12).
 * Every version test lives here.
 */
#ifndef _GIL_COMPAT_H
#define _GIL_COMPAT_H

#include <linux/mm.h>
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

#endif /* _GIL_COMPAT_H */
