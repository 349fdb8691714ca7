// Exports for this process and its terminal, one call each: the subreaper
// flag, session and group, the parent-death signal, the tty, kill and _exit,
// pinning with a pidfd before signalling (pidfd.c), the log relay's pipes
// (pipe.c). Argument checks and conversion only; each returns >= 0 or -errno.
#include "binding.h"

#include <unistd.h>

#include <cstddef>

extern "C" {
#include "pidfd.h"
#include "pipe.h"
#include "sys.h"
}

namespace tsinit {
namespace {

INT_CALL(PrctlSetChildSubreaper, sys_prctl_set_child_subreaper, "on")

Napi::Value PrctlGetChildSubreaper(const Napi::CallbackInfo& info) { return N(info, sys_prctl_get_child_subreaper()); }

Napi::Value Setsid(const Napi::CallbackInfo& info) { return N(info, sys_setsid()); }

Napi::Value Setpgid(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid"), pgid = Int(info, 1, "pgid");
  CHECK_ENV(info);
  return N(info, sys_setpgid(pid, pgid));
}

INT_CALL(PrctlSetPdeathsig, sys_prctl_set_pdeathsig, "signal")

INT_CALL(Isatty, sys_isatty, "fd")
INT_CALL(Tcgetpgrp, sys_tcgetpgrp, "fd")
INT_CALL(Tcgetsid, sys_tcgetsid, "fd")
INT_CALL(Tiocnotty, sys_tiocnotty, "fd")

Napi::Value Getsid(const Napi::CallbackInfo& info) { return N(info, sys_getsid()); }

Napi::Value Kill(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid"), sig = Int(info, 1, "signal");
  CHECK_ENV(info);
  return N(info, sys_kill(pid, sig));
}

Napi::Value Exit(const Napi::CallbackInfo& info) {
  int code = Int(info, 0, "code");
  CHECK_ENV(info);
  // No atexit handlers, no Node teardown: the init's work is done and its
  // logs were written synchronously. Only the kernel's cleanup remains.
  _exit(code & 0xff);
}

// --- pinning before signalling (issue 12 §2; native/pidfd.c) ----------------

// pidfdPin(pid, start, flags) → [fd, kind, ppid] or -errno: a handle on pid,
// checked after it was taken to be the process that started at `start`
// (clock ticks since boot, which outgrow an int32: passed as a double).
Napi::Value PidfdPin(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid");
  if (info.Length() <= 1 || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), "start must be a number").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  double start = info[1].As<Napi::Number>().DoubleValue();
  int flags = info.Length() > 2 ? Int(info, 2, "flags") : 0;
  CHECK_ENV(info);
  int kind = 0;
  pid_t ppid = 0;
  int fd = pidfd_pin(pid, static_cast<unsigned long long>(start), flags, &kind, &ppid);
  if (fd < 0) return N(info, fd);
  const int out[3] = {fd, kind, static_cast<int>(ppid)};
  return Numbers(info, out, 3);
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd"), sig = Int(info, 1, "signal");
  CHECK_ENV(info);
  return N(info, pidfd_signal(fd, sig));
}

// --- pipes for the log relay (native/pipe.c) --------------------------------

// [read end, write end], both close-on-exec, or -errno.
Napi::Value Pipe2(const Napi::CallbackInfo& info) {
  int fds[2];
  int r = pipe_pipe2(fds);
  return r < 0 ? N(info, r) : Numbers(info, fds, 2);
}

// writeNowait(fd, buffer, offset, length): bytes written or -errno.
Napi::Value WriteNowait(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd");
  CHECK_ENV(info);
  if (info.Length() < 4 || !info[1].IsBuffer()) {
    Napi::TypeError::New(info.Env(), "buffer must be a Buffer").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  int off = Int(info, 2, "offset"), len = Int(info, 3, "length");
  CHECK_ENV(info);
  if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > b.Length()) {
    Napi::RangeError::New(info.Env(), "offset and length must lie within the buffer").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return N(info, pipe_write_nowait(fd, b.Data() + off, static_cast<size_t>(len)));
}

}  // namespace

void RegisterProc(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {
    {"prctlSetChildSubreaper", PrctlSetChildSubreaper},
    {"prctlGetChildSubreaper", PrctlGetChildSubreaper},
    {"setsid", Setsid},
    {"setpgid", Setpgid},
    {"kill", Kill},
    {"prctlSetPdeathsig", PrctlSetPdeathsig},
    {"isatty", Isatty},
    {"getsid", Getsid},
    {"tcgetpgrp", Tcgetpgrp},
    {"tcgetsid", Tcgetsid},
    {"tiocnotty", Tiocnotty},
    {"_exit", Exit},
    // pinning before signalling (issue 12 §2)
    {"pidfdPin", PidfdPin},
    {"pidfdSendSignal", PidfdSendSignal},
    // pipes for the log relay
    {"pipe2", Pipe2},
    {"writeNowait", WriteNowait},
  });
  exports.Set("PIDFD_PIN_PROC_DIR", Napi::Number::New(env, PIDFD_PIN_PROC_DIR));
}

}  // namespace tsinit
