/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds for (6.1 to 6.12).
 * Every version test lives here.
 */
#ifndef _GIL_COMPAT_H
#define _GIL_COMPAT_H

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
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
 * The time @task has spent runnable but waiting for a CPU, as the
 * scheduler accounts it (sched_info.run_delay, /proc/PID/schedstat's
 * second field), counting a wait under way.  Read without the runqueue's
 * lock: a 64-bit load is whole, and a value a scheduler update behind is
 * one the next look corrects.  Not on a 32-bit kernel, where it could
 * tear, nor without CONFIG_SCHED_INFO.
 */
#if defined(CONFIG_SCHED_INFO) && BITS_PER_LONG == 64
#define GIL_HAVE_RUN_DELAY 1

static inline u64 gil_task_run_delay(struct task_struct *task)
{
	u64 delay, queued, now;

	/* Unlocked: the scheduler writes it under the runqueue's lock. */
	delay = data_race(task->sched_info.run_delay);
	/* Likewise: nonzero while the task waits on a runqueue. */
	queued = data_race(task->sched_info.last_queued);
	if (queued) {
		now = sched_clock_cpu(task_cpu(task));
		if (now > queued)
			delay += now - queued;
	}
	return delay;
}
#else
#define GIL_HAVE_RUN_DELAY 0

static inline u64 gil_task_run_delay(struct task_struct *task)
{
	return 0;
}
#endif

#endif /* _GIL_COMPAT_H */
