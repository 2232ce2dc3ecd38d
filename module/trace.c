// SPDX-License-Identifier: GPL-2.0
/*
 * The GIL's tracepoints, declared in trace.h, are defined here.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
