// SPDX-License-Identifier: GPL-2.0
/*
 * The word page (struct gil_word): userspace takes a free GIL and releases
 * an uncontended one by exchanging the word, as with a futex, and enters
 * the module only when the word's GIL_WORD_KERNEL bit says so.
 *
 * The module's own state (gil->locked, gil->holder) and the word agree at
 * every gil_lock() and gil_unlock():
 *  - gil_lock() takes gil->lock and sets GIL_WORD_KERNEL, which stops the
 *    exchanges; what userspace did since the last gil_unlock() is then in
 *    the word, and gil_word_sync() folds it in: a free word is a GIL
 *    released, a token a GIL taken by that token's thread.
 *  - gil_unlock() writes the state back, and clears GIL_WORD_KERNEL unless
 *    the module must see the next take and release: threads wait, a drop
 *    request or an owner death is pending, a forced releaser waits for its
 *    handshake, or the policy is GIL_POLICY_IO and some thread is
 *    CPU-bound (its next release classifies it).
 * Every section under gil->lock that reads or changes the GIL's state is
 * bracketed so, waits' sleeps included (the rest, which read the interval,
 * the statistics or a record's place in line, take the plain spinlock).
 *
 * The word is userspace's: a token is looked up, as a tid is, and one no
 * attached thread has is a dead holder.  A write outside the exchanges is
 * noticed when the word lacks the bit the module left set: the threads
 * that sleep on the module's view of the holder are woken to look again.
 * Changes of owner and the counts of what went through the word are
 * userspace's to keep (struct gil_word); the module adds them to its
 * statistics.
 *
 * The module writes the word through its own mapping of the page: fine
 * where data caches do not alias (x86, arm64), which is where it is built.
 */
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/xarray.h>

#include "compat.h"
#include "gil.h"

int gil_word_alloc(struct gil *gil)
{
	gil->word_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!gil->word_page)
		return -ENOMEM;
	gil->word = page_address(gil->word_page);
	xa_init_flags(&gil->tokens, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	return 0;
}

/* The tokens of records still attached go with the GIL. */
void gil_word_free(struct gil *gil)
{
	xa_destroy(&gil->tokens);
	__free_page(gil->word_page);
}

/*
 * Shared, as the read-only page is (page.c): a private copy would be a word
 * the module never sees.  Writable, never executable.
 */
int gil_word_mmap(struct gil *gil, struct vm_area_struct *vma)
{
	if (vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	gil_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYEXEC);
	return vm_insert_page(vma, vma->vm_start, gil->word_page);
}

/*
 * Cyclic, so that a token is reused only after a billion attachments: a
 * word naming the token of a thread long gone must not name a new one.
 *
 * @t is attached, and a SHUTDOWN may end it at any time, gil_token_free()
 * finding no token yet.  So the slot is only reserved here, and filled
 * under gil->lock if the record is still there: no token outlives its
 * record.  The caller holds a reference to @t.
 */
int gil_token_alloc(struct gil *gil, struct gil_thread *t)
{
	u32 token;
	int ret = xa_alloc_cyclic(&gil->tokens, &token, NULL,
				  XA_LIMIT(1, GIL_WORD_TOKEN), &gil->next_token,
				  GFP_KERNEL_ACCOUNT);

	/* On failure @token may name another record's: not ours to free. */
	if (ret < 0)
		return ret;
	spin_lock(&gil->lock);
	if (t->gone) {
		xa_release(&gil->tokens, token);
	} else {
		/* A reserved slot needs no memory: this cannot fail. */
		xa_store(&gil->tokens, token, t, GFP_NOWAIT);
		t->token = token;
	}
	spin_unlock(&gil->lock);
	return 0;
}

/*
 * The record leaves the GIL (lock.c, under gil->lock): its token names
 * nobody from now on.  A record can outlive its GIL, so its release does
 * not touch the GIL.
 */
void gil_token_free(struct gil *gil, struct gil_thread *t)
{
	if (t->token)
		xa_erase(&gil->tokens, t->token);
}

/* The record of @token, with a reference, or NULL. */
static struct gil_thread *gil_token_get(struct gil *gil, u32 token)
{
	struct gil_thread *t;

	if (!token)
		return NULL;
	rcu_read_lock();
	t = xa_load(&gil->tokens, token);
	if (t && !kref_get_unless_zero(&t->kref))
		t = NULL;
	rcu_read_unlock();
	return t;
}

/* @t (a reference the caller gives away) is the holder, or last holder. */
static void gil_word_set_holder(struct gil *gil, struct gil_thread *t)
{
	if (gil->holder)
		gil_thread_put(gil->holder);
	gil->holder = t;
}

/*
 * Fold in what userspace did through the word, @word (which had no
 * GIL_WORD_KERNEL): a release, a take, or both, by any of the threads.
 */
static void gil_word_sync(struct gil *gil, u32 word)
{
	u32 token = word & GIL_WORD_TOKEN;
	struct gil_thread *t;

	if (gil->holder && gil->holder->token == token && gil->locked)
		return;
	/* The holder let go through the word: a voluntary release. */
	if (gil->locked)
		gil_classify(gil, gil->holder, false);
	if (!token) {
		/* Released: the last taker counts for the next change. */
		gil->locked = false;
		token = READ_ONCE(gil->word->last_token);
		if (!gil->holder || gil->holder->token != token)
			gil_word_set_holder(gil, gil_token_get(gil, token));
		return;
	}
	t = gil_token_get(gil, token);
	if (t && !t->gone) {
		gil->locked = true;
		if (t == gil->holder)
			gil_thread_put(t);
		else
			gil_word_set_holder(gil, t);
		return;
	}
	/* Held by no thread attached: a holder that died. */
	if (t)
		gil_thread_put(t);
	gil->locked = false;
	gil->owner_died = true;
	gil_word_set_holder(gil, NULL);
}

/* Must the module see the next take and release? */
static bool gil_word_kernel(const struct gil *gil)
{
	return gil->nr_waiters || gil->drop_request || gil->owner_died ||
	       gil_policy_watches_releases(gil) ||
	       (gil->holder && gil->holder->switching);
}

/*
 * The word lost the bit the module left set: someone wrote it outside the
 * exchanges.  The forced releaser and the first waiter sleep on the
 * module's view of the holder, which is about to change under them: wake
 * them now, under gil->lock (this is no path worth a queue), to look again
 * once it is let go.
 */
static void gil_word_overwritten(struct gil *gil)
{
	struct gil_thread *head = gil_head(gil);

	if (gil->holder && gil->holder->switching && !gil->holder->away)
		gil_thread_wake(gil->holder);
	if (head)
		gil_thread_wake(head);
}

void gil_lock(struct gil *gil)
	__acquires(&gil->lock)
{
	u32 *word = &gil->word->word;
	u32 old;

	spin_lock(&gil->lock);
	old = READ_ONCE(*word);
	if (old & GIL_WORD_KERNEL)
		return;
	/*
	 * One exchange, no loop a writer could keep failing; the token need
	 * not survive it: gil_unlock() writes the whole word.
	 */
	old = xchg(word, GIL_WORD_KERNEL);
	if (old & GIL_WORD_KERNEL)
		return;
	/* Nothing changes the state between gil_unlock() and here. */
	if (gil_word_kernel(gil))
		gil_word_overwritten(gil);
	gil_word_sync(gil, old);
}

void gil_unlock(struct gil *gil)
	__releases(&gil->lock)
{
	u32 word = gil->locked ? gil->holder->token : 0;

	if (gil_word_kernel(gil))
		word |= GIL_WORD_KERNEL;
	/* A release: what the GIL protected is written before it is free. */
	smp_store_release(&gil->word->word, word);
	spin_unlock(&gil->lock);
}

/* A take through the module: the word's takers compare with it. */
void gil_word_taken(struct gil *gil, struct gil_thread *t)
{
	WRITE_ONCE(gil->word->last_token, t->token);
}

/*
 * The word page's eval breaker: the drop request's bit alone, by an atomic
 * or and and-not, so that the process's own bits (GIL_EVAL_BREAKER_PENDING)
 * stay.  Not a cmpxchg loop, which a process writing the word all the time
 * could keep failing under gil->lock: on x86 each is one locked
 * instruction.  (Where atomics are LL/SC retry loops, arm64 without LSE,
 * a writer can still delay them, as it can the word's xchg above.)
 */
void gil_word_drop_request(struct gil *gil, bool on)
{
	atomic_t *eb = (atomic_t *)&gil->word->eval_breaker;

	BUILD_BUG_ON(sizeof(atomic_t) != sizeof(gil->word->eval_breaker));
	if (on)
		atomic_or(GIL_EVAL_BREAKER_DROP_REQUEST, eb);
	else
		atomic_andnot(GIL_EVAL_BREAKER_DROP_REQUEST, eb);
}

/* What went through the word, added to the module's own statistics. */
void gil_word_stats(struct gil *gil, struct gil_stats *st)
{
	struct gil_word *w = gil->word;

	st->acquisitions += READ_ONCE(w->fast_acquisitions);
	st->switch_number += READ_ONCE(w->fast_switches);
	st->voluntary_releases += READ_ONCE(w->fast_releases);
}
