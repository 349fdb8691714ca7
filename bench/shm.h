/* Layout of the page the launcher (nsbench) and the command (child) share:
 * int64 slots, times in CLOCK_MONOTONIC nanoseconds. */
#ifndef BENCH_SHM_H
#define BENCH_SHM_H

#define SHM_SIZE 4096

enum {
  S_STAMP = 0,            /* child: first instruction, or right before _exit */
  S_ORPH_N = 2,           /* launcher → child: orphans to make */
  S_ORPH_BURST = 3,       /* launcher → child: orphans per leader */
  S_ORPH_FIRST = 4,       /* first leader, right before its _exit */
  S_ORPH_END = 5,         /* all leaders done */
  S_ORPH_MADE = 6,        /* orphans made */
  S_ORPH_DONE = 7,        /* 1 when all are made */
  S_ORPH_RETRIES = 8,     /* fork/vfork failures (out of pids: backpressure) */
  S_ORPH_START = 9,       /* child received the command */
  S_ORPH_LEADER_MADE = 10 /* leader → child: how many it made */
};

#endif
