/* Syscalls of the privilege drop (issue 3): no_new_privs, keepcaps,
 * capabilities, credentials read back. Each function is one call and returns
 * a value >= 0 or -errno. No Node headers here: bind_privdrop.cc converts. */
#ifndef TSINIT_PRIVDROP_H
#define TSINIT_PRIVDROP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* prctl(PR_SET_NO_NEW_PRIVS, 1) and PR_GET_NO_NEW_PRIVS (0 or 1). Per thread:
 * the calling thread and what it forks afterwards. */
int pd_prctl_set_no_new_privs(void);
int pd_prctl_get_no_new_privs(void);

/* prctl(PR_SET_KEEPCAPS, on): the calling thread keeps its permitted set
 * across the change to nonzero uids. */
int pd_prctl_set_keepcaps(int on);

/* capget/capset for the calling thread, version 3 (64 capability bits). Each
 * set is two 32-bit words, low first: caps[0..1] effective, caps[2..3]
 * permitted, caps[4..5] inheritable. */
int pd_capget(uint32_t caps[6]);
int pd_capset(const uint32_t caps[6]);

/* prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE / _IS_SET / _CLEAR_ALL). */
int pd_cap_ambient_raise(int cap);
int pd_cap_ambient_is_set(int cap);
int pd_cap_ambient_clear_all(void);

/* getresuid/getresgid into ids[3] (real, effective, saved). */
int pd_getresuid(uint32_t ids[3]);
int pd_getresgid(uint32_t ids[3]);

#ifdef __cplusplus
}
#endif

#endif
