/* Catching signals into a self-pipe, so the event loop learns of them in
 * order and nothing runs in signal context but a write(2). No Node headers. */
#ifndef TSINIT_SIGCATCH_H
#define TSINIT_SIGCATCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* Creates the pipe (both ends non-blocking, close-on-exec) and installs the
 * handler for each signal in sigs. Returns the read end, or -errno. A second
 * call adds signals and returns the same read end. */
int sigcatch_install(const int *sigs, int n);

/* Sets each signal in sigs to SIG_IGN (no longer caught). Returns 0 or -errno. */
int sigcatch_ignore(const int *sigs, int n);

/* Reads what has arrived into out (one signal number per byte, in order of
 * arrival). Returns the count (0 when nothing is pending) or -errno. */
int sigcatch_read(unsigned char *out, int max);

/* Signals that arrived while the pipe was full, counted per signal number and
 * cleared by this call (out needs 65 slots). Returns how many were lost. */
int sigcatch_take_overflow(unsigned *out);

#ifdef __cplusplus
}
#endif

#endif
