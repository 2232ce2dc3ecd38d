/*
 * kgil: the main interpreter's GIL on libgil (Include/internal/pycore_kgil.h).
 *
 * CPython keeps its GIL bookkeeping (gil->locked, last_holder,
 * switch_number, holds_gil, under gil->mutex) and its eval breaker; only
 * the waiting and the handing over are libgil's: take_gil() sleeps in
 * gil_acquire() (for the kernel backend, in /dev/gil's ACQUIRE), drop_gil()
 * ends in gil_release(), and the drop request, posted by libgil (by the
 * kernel, for /dev/gil) in a word the eval loop polls, is answered as
 * CPython answers its own: _Py_HandlePending() detaches and attaches the
 * thread state.  The forced-switch handshake is libgil's, in gil_release().
 *
 * libgil's thread states are per OS thread (the kernel's records are), while
 * CPython's are per thread and interpreter: each OS thread gets one at its
 * first take, and loses it at its exit.
 *
 * Isolated subinterpreters (own GIL) keep CPython's GIL: one external GIL
 * is the main interpreter's, and those it shares with.
 */
#include "Python.h"
#include "pycore_ceval.h"         // _PyEval_GetSwitchInterval()
#include "pycore_interp.h"        // PyInterpreterState.ceval
#include "pycore_kgil.h"
#include "pycore_pyerrors.h"      // _Py_FatalErrorFormat()
#include "pycore_pystate.h"       // _PyThreadState_GET()

#include <gil.h>
#include <pthread.h>

static const uint32_t kgil_no_request;
const uint32_t *_Py_kgil_breaker = &kgil_no_request;

static struct gil *kgil;
static struct _gil_runtime_state *kgil_backed;
static pthread_key_t kgil_key;
static _Py_thread_local struct gil_tstate *kgil_ts;

int
_Py_kgil_backs(struct _gil_runtime_state *gil)
{
    return kgil != NULL && gil == kgil_backed;
}

int
_Py_kgil_requested(PyThreadState *tstate)
{
    return (_Py_kgil_pending() & GIL_EVAL_BREAKER_DROP_REQUEST) &&
           _Py_kgil_backs(tstate->interp->ceval.gil);
}

/* A libgil call failed where CPython's own GIL cannot: name the caller. */
#define kgil_fatal(what, err) kgil_fatal_in(__func__, (what), (err))

_Py_NO_RETURN static void
kgil_fatal_in(const char *func, const char *what, int err)
{
    _Py_FatalErrorFormat(func, "PYTHONGIL=%s: %s: %s", getenv("PYTHONGIL"), what,
                        strerror(-err));
}

/* At the exit of an OS thread that took the GIL: its libgil thread state. */
static void
kgil_thread_exit(void *ts)
{
    gil_tstate_detach(ts);
    gil_tstate_free(ts);
}

/* The calling OS thread's libgil thread state, made at its first take. */
static struct gil_tstate *
kgil_tstate(void)
{
    struct gil_tstate *ts = kgil_ts;
    int err;

    if (ts != NULL) {
        return ts;
    }
    err = gil_tstate_new(kgil, &ts);
    if (!err) {
        err = gil_tstate_attach(ts);
    }
    if (err) {
        kgil_fatal("gil_tstate_attach", err);
    }
    pthread_setspecific(kgil_key, ts);
    kgil_ts = ts;
    return ts;
}

/* "kernel", "kernel:fifo", "futex"...: the backend and policy; 0 or -1. */
static int
kgil_parse(const char *spec, enum gil_backend *backend, int *policy)
{
    char name[16];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    int b;

    if (len >= sizeof(name)) {
        return -1;
    }
    memcpy(name, spec, len);
    name[len] = '\0';
    b = gil_backend_from_name(name);
    if (b < 0) {
        return -1;
    }
    *backend = (enum gil_backend)b;
    *policy = -1;
    if (colon != NULL) {
        *policy = gil_policy_from_name(colon + 1);
        if (*policy < 0 || *backend != GIL_BACKEND_KERNEL) {
            return -1;
        }
    }
    return 0;
}

void
_Py_kgil_init(struct _gil_runtime_state *gil)
{
    const char *spec = getenv("PYTHONGIL");
    enum gil_backend backend = GIL_BACKEND_DEFAULT;
    int policy = -1, err;

    if (spec == NULL || *spec == '\0' || strcmp(spec, "cpython") == 0) {
        return;
    }
    if (kgil_parse(spec, &backend, &policy) < 0) {
        _Py_FatalErrorFormat(__func__, "PYTHONGIL=%s: expected cpython, kernel, "
                            "kernel:cpython, kernel:fifo, kernel:io or futex",
                            spec);
    }
    err = gil_open(&kgil, backend);
    if (err) {
        kgil_fatal("gil_open", err);
    }
    if (policy >= 0) {
        err = gil_set_policy(kgil, (unsigned int)policy);
        if (err) {
            kgil_fatal("gil_set_policy", err);
        }
    }
    if (pthread_key_create(&kgil_key, kgil_thread_exit) != 0) {
        kgil_fatal("pthread_key_create", -ENOMEM);
    }
    kgil_backed = gil;
    _Py_kgil_set_interval(gil->interval);
    _Py_kgil_breaker = gil_eval_breaker(kgil);
}

/*
 * The GIL is made anew (an embedder's second Py_Initialize): threads still
 * waiting in the old one fail and exit (see _Py_kgil_take).
 */
void
_Py_kgil_fini(void)
{
    _Py_kgil_breaker = &kgil_no_request;
    gil_close(kgil);
    kgil = NULL;
    kgil_backed = NULL;
}

void
_Py_kgil_take(void)
{
    int err = gil_acquire(kgil_tstate());

    /* EOWNERDEAD: a holder in another process died; we hold the GIL. */
    if (err == 0 || err == -EOWNERDEAD) {
        return;
    }
    if (err == -EBADF) {
        PyThread_exit_thread();
    }
    kgil_fatal("gil_acquire", err);
}

void
_Py_kgil_drop(void)
{
    int saved = errno;
    int err = gil_release(kgil_tstate());

    if (err) {
        kgil_fatal("gil_release", err);
    }
    errno = saved;
}

/* CPython's range (sys.setswitchinterval) is wider than libgil's: clamp. */
void
_Py_kgil_set_interval(unsigned long microseconds)
{
    double us = microseconds < 1 ? 1 : (double)microseconds;

    if (us > (double)GIL_INTERVAL_MAX_US) {
        us = (double)GIL_INTERVAL_MAX_US;
    }
    gil_set_switch_interval(kgil, us * 1e-6);
}

/*
 * In the child of fork(), in the forking thread, which holds the GIL: a GIL
 * of the child's own, left free for _PyEval_ReInitThreads()'s take_gil().
 */
void
_Py_kgil_after_fork(void)
{
    struct gil_tstate *ts = kgil_tstate();
    int err = gil_after_fork_child(ts);

    if (err) {
        kgil_fatal("gil_after_fork_child", err);
    }
    err = gil_release(ts);
    if (err && err != -EPERM) {     /* EPERM: it did not hold the GIL */
        kgil_fatal("gil_release", err);
    }
    _Py_kgil_breaker = gil_eval_breaker(kgil);
}
