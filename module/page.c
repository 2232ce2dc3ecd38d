// SPDX-License-Identifier: GPL-2.0
/*
 * The page shared read-only with userspace (struct gil_page): the
 * eval-breaker word the holder polls, and the GIL's state for observers.
 */
#include <linux/gfp.h>
#include <linux/mm.h>

#include "compat.h"
#include "gil.h"

int gil_page_alloc(struct gil *gil)
{
	gil->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!gil->page)
		return -ENOMEM;
	gil->shared = page_address(gil->page);
	gil->shared->size = sizeof(struct gil_page);
	return 0;
}

/* Mappings hold their own page references: the page lives until unmapped. */
void gil_page_free(struct gil *gil)
{
	__free_page(gil->page);
}

/*
 * Post (@on) or withdraw a drop request in both eval breakers: this page's,
 * which the module alone writes, and the word page's (ABI 2.2), where the
 * process may keep bits of its own.
 */
void gil_page_drop_request(struct gil *gil, bool on)
{
	WRITE_ONCE(gil->shared->eval_breaker,
		   on ? GIL_EVAL_BREAKER_DROP_REQUEST : 0);
	gil_word_drop_request(gil, on);
}

/* Publish the state; the eval breaker is gil_page_drop_request()'s. */
void gil_page_sync(struct gil *gil)
{
	struct gil_page *p = gil->shared;

	WRITE_ONCE(p->locked, gil->locked);
	WRITE_ONCE(p->switch_number, gil->switch_number);
	WRITE_ONCE(p->interval_us, gil->interval_us);
	WRITE_ONCE(p->policy, gil->policy);
}

/*
 * MAP_SHARED only: a private mapping could be turned into a stale copy by a
 * forced write (ptrace, /proc/pid/mem), and the holder would then never
 * see a drop request.
 */
int gil_page_mmap(struct gil *gil, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	gil_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
	return vm_insert_page(vma, vma->vm_start, gil->page);
}
