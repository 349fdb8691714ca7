/* Syscalls of the privilege drop: no_new_privs, keepcaps, capabilities and
 * the credentials read back. Thin wrappers, each returning a value >= 0 or
 * -errno. The order of the drop and every check of it are policy, in
 * src/privileges/; nothing here decides anything. */
#define _GNU_SOURCE
#include "privdrop.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define RET(expr) return (expr) < 0 ? -errno : 0

int pd_prctl_set_no_new_privs(void) { RET(prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL)); }

int pd_prctl_get_no_new_privs(void) {
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
  return r < 0 ? -errno : r;
}

int pd_prctl_set_keepcaps(int on) { RET(prctl(PR_SET_KEEPCAPS, on ? 1UL : 0UL, 0UL, 0UL, 0UL)); }

/* The raw syscalls with _LINUX_CAPABILITY_VERSION_3, which carries two 32-bit
 * words per set (capabilities 0-63); pid 0 is the calling thread (capget(2)).
 * libcap is not needed for three fields. */
int pd_capget(uint32_t caps[6]) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) < 0) return -errno;
  for (int i = 0; i < 2; i++) {
    caps[0 + i] = data[i].effective;
    caps[2 + i] = data[i].permitted;
    caps[4 + i] = data[i].inheritable;
  }
  return 0;
}

int pd_capset(const uint32_t caps[6]) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = caps[0 + i];
    data[i].permitted = caps[2 + i];
    data[i].inheritable = caps[4 + i];
  }
  RET(syscall(SYS_capset, &hdr, data));
}

int pd_cap_ambient_raise(int cap) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0UL, 0UL)); }

int pd_cap_ambient_is_set(int cap) {
  int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0UL, 0UL);
  return r < 0 ? -errno : r;
}

int pd_cap_ambient_clear_all(void) { RET(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL)); }

/* The three ids of getresuid/getresgid, as the addon reads them. */
static int put_ids(uint32_t ids[3], uint32_t r, uint32_t e, uint32_t s) {
  ids[0] = r;
  ids[1] = e;
  ids[2] = s;
  return 0;
}

int pd_getresuid(uint32_t ids[3]) {
  uid_t r, e, s;
  return getresuid(&r, &e, &s) < 0 ? -errno : put_ids(ids, r, e, s);
}

int pd_getresgid(uint32_t ids[3]) {
  gid_t r, e, s;
  return getresgid(&r, &e, &s) < 0 ? -errno : put_ids(ids, r, e, s);
}
