// Exports for the privilege drop (issue 3): credentials set and read back
// (sys.c, privdrop.c), no_new_privs, keepcaps and capabilities (privdrop.c).
// Argument checks and conversion only; each returns >= 0 or -errno, the
// policy is in src/privileges/.
#include "binding.h"

extern "C" {
#include "privdrop.h"
#include "sys.h"
}

namespace tsinit {
namespace {

Napi::Value Setresuid(const Napi::CallbackInfo& info) {
  uint32_t r = Id(info, 0), e = Id(info, 1), s = Id(info, 2);
  CHECK_ENV(info);
  return N(info, sys_setresuid(r, e, s));
}

Napi::Value Setresgid(const Napi::CallbackInfo& info) {
  uint32_t r = Id(info, 0), e = Id(info, 1), s = Id(info, 2);
  CHECK_ENV(info);
  return N(info, sys_setresgid(r, e, s));
}

Napi::Value Setgroups(const Napi::CallbackInfo& info) {
  std::vector<gid_t> groups;
  if (!IdList(info, info[0], &groups)) return info.Env().Undefined();
  return N(info, sys_setgroups(groups.size(), groups.data()));
}

Napi::Value PrctlSetNoNewPrivs(const Napi::CallbackInfo& info) { return N(info, pd_prctl_set_no_new_privs()); }
Napi::Value PrctlGetNoNewPrivs(const Napi::CallbackInfo& info) { return N(info, pd_prctl_get_no_new_privs()); }

INT_CALL(PrctlSetKeepcaps, pd_prctl_set_keepcaps, "on")

// Six numbers (effective, permitted, inheritable; two 32-bit words each, low
// first) or -errno.
Napi::Value Capget(const Napi::CallbackInfo& info) {
  uint32_t caps[6];
  int r = pd_capget(caps);
  return r < 0 ? N(info, r) : Numbers(info, caps, 6);
}

Napi::Value Capset(const Napi::CallbackInfo& info) {
  std::vector<gid_t> words;
  if (!IdList(info, info[0], &words)) return info.Env().Undefined();
  if (words.size() != 6) {
    Napi::TypeError::New(info.Env(), "capset needs six 32-bit words").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  uint32_t caps[6];
  for (size_t i = 0; i < 6; i++) caps[i] = words[i];
  return N(info, pd_capset(caps));
}

INT_CALL(CapAmbientRaise, pd_cap_ambient_raise, "capability")
INT_CALL(CapAmbientIsSet, pd_cap_ambient_is_set, "capability")

Napi::Value CapAmbientClearAll(const Napi::CallbackInfo& info) { return N(info, pd_cap_ambient_clear_all()); }

// [real, effective, saved] or -errno.
Napi::Value Ids(const Napi::CallbackInfo& info, int (*fn)(uint32_t*)) {
  uint32_t ids[3];
  int r = fn(ids);
  return r < 0 ? N(info, r) : Numbers(info, ids, 3);
}
Napi::Value Getresuid(const Napi::CallbackInfo& info) { return Ids(info, pd_getresuid); }
Napi::Value Getresgid(const Napi::CallbackInfo& info) { return Ids(info, pd_getresgid); }

}  // namespace

void RegisterPrivdrop(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {
    {"setresuid", Setresuid},
    {"setresgid", Setresgid},
    {"setgroups", Setgroups},
    {"prctlSetNoNewPrivs", PrctlSetNoNewPrivs},
    {"prctlGetNoNewPrivs", PrctlGetNoNewPrivs},
    {"prctlSetKeepcaps", PrctlSetKeepcaps},
    {"capget", Capget},
    {"capset", Capset},
    {"capAmbientRaise", CapAmbientRaise},
    {"capAmbientIsSet", CapAmbientIsSet},
    {"capAmbientClearAll", CapAmbientClearAll},
    {"getresuid", Getresuid},
    {"getresgid", Getresgid},
  });
}

}  // namespace tsinit
