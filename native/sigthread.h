/* A thread of tsinit's own that takes the caught signals with sigwaitinfo(2),
 * as the C inits do, where it fits in the thread budget; else the handler
 * takes them, on whichever thread the kernel picks. No Node headers. */
#ifndef TSINIT_SIGTHREAD_H
#define TSINIT_SIGTHREAD_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Threads tsinit's process may have, its own signal thread included. */
#define SIGTHREAD_MAX_THREADS 4

/* Run on the main thread once sigcatch_install has put the handler in place
 * for each of sigs. If the process has fewer than SIGTHREAD_MAX_THREADS
 * threads, blocks sigs in every thread (this one directly, the others through
 * the handler: sigcatch_mask_request) and starts the thread, which hands each
 * signal to sigcatch_deliver. Returns the thread's id, or 0 when the
 * handler goes on taking the signals (the budget is spent, or /proc cannot
 * tell): sigs are then unblocked in this thread, whatever node's start-up left
 * blocked (node --disable-sigusr1 blocks SIGUSR1 in every thread). */
pid_t sigthread_start(const int *sigs, int n);

#ifdef __cplusplus
}
#endif

#endif
