/* Force-included into every file of the glibc prebuilds (scripts/prebuild.sh):
 * binds symbols that newer glibc headers version above the floor back to
 * their older versions, so one prebuild loads on every distribution Node.js
 * itself runs on (glibc 2.28: Debian 10, RHEL/UBI 8, Ubuntu 18.10 and later).
 * glibc 2.32 moved pthread_sigmask from libpthread into libc under a new
 * version; the old one is still exported, with the same behaviour, and Node
 * has libpthread loaded on glibc < 2.34. A source build needs none of this. */
#ifndef TSINIT_GLIBC_FLOOR_H
#define TSINIT_GLIBC_FLOOR_H
/* No #include here: it would read <features.h> before a source file's own
 * _GNU_SOURCE. The script passes this file to glibc builds only. */
#if !defined(__ASSEMBLER__)
#if defined(__x86_64__)
__asm__(".symver pthread_sigmask, pthread_sigmask@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver pthread_sigmask, pthread_sigmask@GLIBC_2.17");
#endif
#endif
#endif
