/*
 * kgil: the main interpreter's GIL on libgil's kernel (/dev/gil) or futex
 * backend, chosen at start-up by the PYTHONGIL environment variable
 * ("cpython", the default: CPython's own; "kernel", "kernel:POLICY" with
 * POLICY cpython, fifo or io; "futex").  Python/kgil.c.
 *
 * Only what the eval loop needs inline is here: the word libgil publishes
 * drop requests in, which the eval breaker's checks poll besides
 * tstate->eval_breaker.  With CPython's own GIL it is a word that stays 0.
 */
#ifndef Py_INTERNAL_KGIL_H
#define Py_INTERNAL_KGIL_H

#ifndef Py_BUILD_CORE
#  error "this header requires Py_BUILD_CORE define"
#endif

#include "pycore_gil.h"           // struct _gil_runtime_state

extern const uint32_t *_Py_kgil_breaker;

/* A drop request from the external GIL is pending (one relaxed load). */
static inline uint32_t
_Py_kgil_pending(void)
{
    return _Py_atomic_load_uint32_relaxed(_Py_kgil_breaker);
}

/* Whether @gil is backed by libgil. */
extern int _Py_kgil_backs(struct _gil_runtime_state *gil);
/* The drop request is for @tstate: pending, and @tstate's GIL is libgil's. */
extern int _Py_kgil_requested(PyThreadState *tstate);

/* Called by Python/ceval_gil.c for the main interpreter's GIL. */
extern void _Py_kgil_init(struct _gil_runtime_state *gil);
extern void _Py_kgil_fini(void);
extern void _Py_kgil_take(void);
extern void _Py_kgil_drop(void);
extern void _Py_kgil_set_interval(unsigned long microseconds);
extern void _Py_kgil_after_fork(void);

#endif /* !Py_INTERNAL_KGIL_H */
