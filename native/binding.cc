// The only file that includes napi.h: argument checks, conversion, exports.
// Every function is one call into the C files (spawn: fork plus a bounded
// read of the error pipe; the signal pipe's callback: sigcatch.c's records
// and reap.c's drain, turned into one array of events) and returns a number
// >= 0 or -errno; TypeError only for wrong types.
#include <napi.h>
#include <uv.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "constants.h"
#include "reap.h"
#include "sigcatch.h"
#include "spawn.h"
#include "sys.h"
#include "privdrop.h"
#include "sockets.h"
#include "pidfd.h"
#include "pipe.h"
}

namespace {

int32_t Int(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  return info[i].As<Napi::Number>().Int32Value();
}

#define CHECK_ENV(info) \
  if ((info).Env().IsExceptionPending()) return (info).Env().Undefined()

Napi::Value N2(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
Napi::Value N(const Napi::CallbackInfo& info, int64_t v) { return N2(info.Env(), v); }

// A function of one int argument that returns a number: the usual shape here.
#define INT_CALL(Name, fn, what)                     \
  Napi::Value Name(const Napi::CallbackInfo& info) { \
    int arg = Int(info, 0, what);                    \
    CHECK_ENV(info);                                 \
    return N(info, fn(arg));                         \
  }

INT_CALL(PrctlSetChildSubreaper, sys_prctl_set_child_subreaper, "on")

// A few numbers as a JavaScript array: ids, capability words, a range.
template <typename T>
Napi::Array Numbers(const Napi::CallbackInfo& info, const T* vals, uint32_t n) {
  Napi::Array out = Napi::Array::New(info.Env(), n);
  for (uint32_t i = 0; i < n; i++) out.Set(i, N(info, static_cast<int64_t>(vals[i])));
  return out;
}

Napi::Value PrctlGetChildSubreaper(const Napi::CallbackInfo& info) { return N(info, sys_prctl_get_child_subreaper()); }

Napi::Value Setsid(const Napi::CallbackInfo& info) { return N(info, sys_setsid()); }

Napi::Value Setpgid(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid"), pgid = Int(info, 1, "pgid");
  CHECK_ENV(info);
  return N(info, sys_setpgid(pid, pgid));
}

// Ids travel as doubles: uid_t is unsigned 32-bit and -1 means "unchanged".
uint32_t Id(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "id must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  return d < 0 ? static_cast<uint32_t>(-1) : static_cast<uint32_t>(d);
}

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

bool IdList(const Napi::CallbackInfo& info, Napi::Value v, std::vector<gid_t>* out) {
  if (!v.IsArray()) {
    Napi::TypeError::New(info.Env(), "groups must be an array of numbers").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) {
      Napi::TypeError::New(info.Env(), "groups must be an array of numbers").ThrowAsJavaScriptException();
      return false;
    }
    out->push_back(static_cast<gid_t>(e.As<Napi::Number>().DoubleValue()));
  }
  return true;
}

Napi::Value Setgroups(const Napi::CallbackInfo& info) {
  std::vector<gid_t> groups;
  if (!IdList(info, info[0], &groups)) return info.Env().Undefined();
  return N(info, sys_setgroups(groups.size(), groups.data()));
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

// The event triples of reap.c as an Int32Array.
Napi::Int32Array Events(Napi::Env env, const std::vector<int32_t>& ev) {
  Napi::Int32Array arr = Napi::Int32Array::New(env, ev.size());
  if (!ev.empty()) std::memcpy(arr.Data(), ev.data(), sizeof(int32_t) * ev.size());
  return arr;
}

// reapDrain(all): reaps now what has exited; the events (at most
// TSINIT_REAP_BATCH exits, then call again) or -errno.
Napi::Value ReapDrain(const Napi::CallbackInfo& info) {
  int all = info.Length() > 0 && info[0].ToBoolean().Value() ? 1 : 0;
  static int buf[3 * TSINIT_REAP_BATCH];
  int more = 0;
  int n = reap_drain(buf, TSINIT_REAP_BATCH, all, &more);
  if (n < 0) return N(info, n);
  return Events(info.Env(), std::vector<int32_t>(buf, buf + 3 * n));
}

INT_CALL(ReapWatch, reap_watch, "pid")
INT_CALL(ReapUnwatch, reap_unwatch, "pid")

Napi::Value ReapReportAll(const Napi::CallbackInfo& info) {
  reap_report_all(info.Length() > 0 && info[0].ToBoolean().Value());
  return N(info, 0);
}

Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid"), flags = Int(info, 1, "flags");
  CHECK_ENV(info);
  int status = 0;
  int r = sys_waitpid(pid, &status, flags);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, N(info, r));
  out.Set(1u, N(info, status));
  return out;
}

Napi::Value SigRange(const Napi::CallbackInfo& info) {
  const int range[2] = {sys_sigrtmin(), sys_sigrtmax()};
  return Numbers(info, range, 2);
}

Napi::Value Exit(const Napi::CallbackInfo& info) {
  int code = Int(info, 0, "code");
  CHECK_ENV(info);
  // No atexit handlers, no Node teardown: the init's work is done and its
  // logs were written synchronously. Only the kernel's cleanup remains.
  _exit(code & 0xff);
}

// --- signals into the event loop -------------------------------------------

struct SignalWatch {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context;
};
SignalWatch* watch = nullptr;
std::vector<int32_t> events;

void Push(int32_t kind, int32_t a, int32_t b) {
  events.push_back(kind);
  events.push_back(a);
  events.push_back(b);
}

// Hands the events gathered so far to JavaScript, in one call.
void Deliver() {
  if (events.empty()) return;
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  Napi::Int32Array arr = Events(env, events);
  events.clear();
  watch->callback.MakeCallback(env.Global(), {arr}, *watch->context);
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

// On SIGCHLD: reap.c drains; only what JavaScript waits for becomes events.
void Reap() {
  static int buf[3 * TSINIT_REAP_BATCH];
  for (;;) {
    int more = 0;
    int n = reap_drain(buf, TSINIT_REAP_BATCH, 0, &more);
    // waitpid(-1, WNOHANG) fails only with ECHILD (an event) or EINTR
    // (retried): any other error has nothing to report.
    if (n > 0) events.insert(events.end(), buf, buf + 3 * n);
    if (!more) return;
    Deliver();
  }
}

// The pipe is readable: the signals the handler recorded, in order. SIGCHLD
// is handled here (Reap); the rest go to JavaScript with whether the handler
// already forwarded them. Nothing to report: no trip into JavaScript at all.
void OnSignalPipe(uv_poll_t* handle, int status, int flags) {
  (void)handle;
  (void)status;
  (void)flags;
  sigcatch_record recs[256];
  int unforwarded = 0;
  for (;;) {
    int n = sigcatch_read(recs, 256);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      if (recs[i].sig == SIGCHLD) {
        Reap();
        continue;
      }
      if (recs[i].status < 0) unforwarded++;
      Push(EV_SIGNAL, recs[i].sig, recs[i].status);
    }
    if (n < 256) break;
  }
  // Signals that found the pipe full (never expected: it holds 32,768
  // records), counted per number so that none is lost.
  unsigned lost[TSINIT_NSIG], lost_fwd[TSINIT_NSIG];
  if (sigcatch_take_overflow(lost, lost_fwd) > 0) {
    if (lost[SIGCHLD] + lost_fwd[SIGCHLD] > 0) Reap();
    for (int sig = 1; sig < TSINIT_NSIG; sig++) {
      if (sig == SIGCHLD) continue;
      if (lost[sig] > 0) Push(EV_LOST, sig, static_cast<int32_t>(lost[sig]));
      if (lost_fwd[sig] > 0) Push(EV_LOST_FORWARDED, sig, static_cast<int32_t>(lost_fwd[sig]));
      unforwarded += static_cast<int>(lost[sig]);
    }
  }
  Deliver();
  // JavaScript has acted on them: the handler may forward on its own again.
  sigcatch_done(unforwarded);
}

// signalsRoute(target, to: number[NSIG], notify: number[NSIG]) sets the
// handler's forwarding table, pinned to the pid |target|; signalsRoute(0)
// clears it (every signal is recorded for the callback).
Napi::Value SignalsRoute(const Napi::CallbackInfo& info) {
  int target = Int(info, 0, "target");
  CHECK_ENV(info);
  if (target == 0) {
    sigcatch_route_set(nullptr);
    return N(info, 0);
  }
  if (info.Length() < 3 || !info[1].IsArray() || !info[2].IsArray()) {
    Napi::TypeError::New(info.Env(), "signalsRoute needs two arrays of numbers, one per signal").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Array to = info[1].As<Napi::Array>(), notify = info[2].As<Napi::Array>();
  sigcatch_route r;
  std::memset(&r, 0, sizeof r);
  r.pid = target < 0 ? -target : target;
  r.target = target;
  for (uint32_t i = 0; i < TSINIT_NSIG && i < to.Length(); i++) r.to[i] = to.Get(i).ToNumber().Int32Value();
  for (uint32_t i = 0; i < TSINIT_NSIG && i < notify.Length(); i++) r.notify[i] = notify.Get(i).ToBoolean().Value() ? 1 : 0;
  sigcatch_route_set(&r);
  return N(info, 0);
}

// signalsStart(signals: number[], onEvents: (events: Int32Array) => void)
// Installs the handler for each signal and starts watching the pipe on the
// event loop. May be called again to add signals (the callback is replaced).
Napi::Value SignalsStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<gid_t> sigs;
  if (!IdList(info, info[0], &sigs)) return env.Undefined();
  if (info.Length() < 2 || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "onEvents must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<int> isigs(sigs.begin(), sigs.end());
  int fd = sigcatch_install(isigs.data(), static_cast<int>(isigs.size()));
  if (fd < 0) return N(info, fd);
  if (watch == nullptr) {
    watch = new SignalWatch();
    watch->env = env;
    watch->context = new Napi::AsyncContext(env, "tsinit:signals");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return N(info, -EINVAL);
    int r = uv_poll_init(loop, &watch->poll, fd);
    if (r < 0) return N(info, r);
    r = uv_poll_start(&watch->poll, UV_READABLE, OnSignalPipe);
    if (r < 0) return N(info, r);
  }
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  return N(info, 0);
}

// signalsIgnore(signals: number[]): SIG_IGN for each; 0 or -errno.
Napi::Value SignalsIgnore(const Napi::CallbackInfo& info) {
  std::vector<gid_t> sigs;
  if (!IdList(info, info[0], &sigs)) return info.Env().Undefined();
  std::vector<int> isigs(sigs.begin(), sigs.end());
  return N(info, sigcatch_ignore(isigs.data(), static_cast<int>(isigs.size())));
}

// --- spawn -------------------------------------------------------------------

// A Buffer copied into a NUL-terminated string owned by the caller.
bool CString(const Napi::Env& env, Napi::Value v, const char* what, std::string* out) {
  if (!v.IsBuffer()) {
    Napi::TypeError::New(env, std::string(what) + " must be a Buffer").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Buffer<char> b = v.As<Napi::Buffer<char>>();
  out->assign(b.Data(), b.Length());
  if (out->find('\0') != std::string::npos) {
    Napi::TypeError::New(env, std::string(what) + " must not contain NUL bytes").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bool CStringList(const Napi::Env& env, Napi::Value v, const char* what, std::vector<std::string>* out) {
  if (!v.IsArray()) {
    Napi::TypeError::New(env, std::string(what) + " must be an array of Buffers").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  out->resize(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++)
    if (!CString(env, a.Get(i), what, &(*out)[i])) return false;
  return true;
}

int32_t OptInt(Napi::Object o, const char* key, int32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : dflt;
}

// spawn({ path, argv, envp, session, uid?, gid?, groups?, umask, cwd, map, keep, listenPidIndex })
// → { pid } or { errno, step } (errno negative, as everywhere).
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "spawn options must be an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = info[0].As<Napi::Object>();

  std::string path, cwd;
  std::vector<std::string> argv, envp;
  if (!CString(env, o.Get("path"), "path", &path)) return env.Undefined();
  if (!CStringList(env, o.Get("argv"), "argv", &argv)) return env.Undefined();
  if (!CStringList(env, o.Get("envp"), "envp", &envp)) return env.Undefined();
  bool has_cwd = !o.Get("cwd").IsUndefined() && !o.Get("cwd").IsNull();
  if (has_cwd && !CString(env, o.Get("cwd"), "cwd", &cwd)) return env.Undefined();

  std::vector<gid_t> groups;
  bool set_ids = o.Get("uid").IsNumber();
  if (set_ids && !IdList(info, o.Get("groups"), &groups)) return env.Undefined();

  std::vector<spawn_fd_map> map;
  Napi::Value mv = o.Get("map");
  if (mv.IsArray()) {
    Napi::Array a = mv.As<Napi::Array>();
    for (uint32_t i = 0; i + 1 < a.Length(); i += 2)
      map.push_back({a.Get(i).As<Napi::Number>().Int32Value(), a.Get(i + 1).As<Napi::Number>().Int32Value()});
  }
  std::vector<gid_t> keep_u;
  if (o.Get("keep").IsArray() && !IdList(info, o.Get("keep"), &keep_u)) return env.Undefined();
  std::vector<int> keep(keep_u.begin(), keep_u.end());

  // Every pointer the child will read, built here, before fork.
  std::vector<char*> argvp, envpp;
  for (auto& s : argv) argvp.push_back(&s[0]);
  argvp.push_back(nullptr);
  int listen_idx = OptInt(o, "listenPidIndex", -1);
  for (auto& s : envp) envpp.push_back(&s[0]);
  envpp.push_back(nullptr);
  char* listen_buf = nullptr;
  if (listen_idx >= 0 && static_cast<size_t>(listen_idx) < envp.size()) {
    // Room for the prefix and any pid, written in place by the child.
    envp[listen_idx].assign(TSINIT_LISTEN_PID_PREFIX);
    envp[listen_idx].resize(TSINIT_LISTEN_PID_BUF, '\0');
    listen_buf = &envp[listen_idx][0];
    envpp[listen_idx] = listen_buf;
  }

  spawn_options opt;
  std::memset(&opt, 0, sizeof opt);
  opt.path = path.c_str();
  opt.argv = argvp.data();
  opt.envp = envpp.data();
  opt.session = OptInt(o, "session", SESSION_SETSID);
  opt.tty = OptInt(o, "tty", TTY_NONE);
  opt.tty_fd = OptInt(o, "ttyFd", 0);
  opt.set_ids = set_ids ? 1 : 0;
  if (set_ids) {
    opt.uid = static_cast<uid_t>(o.Get("uid").As<Napi::Number>().DoubleValue());
    opt.gid = static_cast<gid_t>(o.Get("gid").As<Napi::Number>().DoubleValue());
    opt.ngroups = static_cast<int>(groups.size());
    opt.groups = groups.data();
  }
  opt.umask = OptInt(o, "umask", -1);
  opt.cwd = has_cwd ? cwd.c_str() : nullptr;
  opt.nmap = static_cast<int>(map.size());
  opt.map = map.data();
  opt.nkeep = static_cast<int>(keep.size());
  opt.keep = keep.data();
  opt.listen_pid_env = listen_buf;

  spawn_result res;
  spawn_process(&opt, &res);
  Napi::Object out = Napi::Object::New(env);
  if (res.err != 0) {
    out.Set("errno", N(info, -res.err));
    out.Set("step", N(info, res.step));
  } else {
    out.Set("pid", N(info, res.pid));
  }
  return out;
}

// --- privilege drop and socket hand-off (issue 3; native/privdrop.c, sockets.c)

// A string argument (an address literal), or a TypeError.
bool Str(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

Napi::Value Socket(const Napi::CallbackInfo& info) {
  int domain = Int(info, 0, "domain"), type = Int(info, 1, "type");
  CHECK_ENV(info);
  return N(info, sock_socket(domain, type));
}

Napi::Value SetsockoptInt(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd"), level = Int(info, 1, "level"), name = Int(info, 2, "name"), value = Int(info, 3, "value");
  CHECK_ENV(info);
  return N(info, sock_setsockopt_int(fd, level, name, value));
}

Napi::Value BindInet(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd"), family = Int(info, 1, "family");
  std::string address;
  if (!Str(info, 2, "address", &address)) return info.Env().Undefined();
  int port = Int(info, 3, "port");
  CHECK_ENV(info);
  return N(info, sock_bind_inet(fd, family, address.c_str(), port));
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd"), backlog = Int(info, 1, "backlog");
  CHECK_ENV(info);
  return N(info, sock_listen(fd, backlog));
}

INT_CALL(Close, sock_close, "fd")

// Unix socket files through a directory handle (sock_open_dir_safe and the
// *at calls): a name is a Buffer; "" is the handle itself.
Napi::Value OpenDirSafe(const Napi::CallbackInfo& info) {
  std::string path;
  if (!CString(info.Env(), info[0], "path", &path)) return info.Env().Undefined();
  return N(info, sock_open_dir_safe(path.c_str()));
}

Napi::Value BindUnixAt(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd"), dirfd = Int(info, 1, "dirfd");
  std::string name;
  if (!CString(info.Env(), info[2], "name", &name)) return info.Env().Undefined();
  int mode = Int(info, 3, "mode");
  CHECK_ENV(info);
  return N(info, sock_bind_unix_at(fd, dirfd, name.c_str(), mode));
}

Napi::Value OpenatPath(const Napi::CallbackInfo& info) {
  int dirfd = Int(info, 0, "dirfd");
  std::string name;
  if (!CString(info.Env(), info[1], "name", &name)) return info.Env().Undefined();
  CHECK_ENV(info);
  return N(info, sock_openat_path(dirfd, name.c_str()));
}

// [mode, uid, gid] or -errno.
Napi::Value Fstatat(const Napi::CallbackInfo& info) {
  int dirfd = Int(info, 0, "dirfd");
  std::string name;
  if (!CString(info.Env(), info[1], "name", &name)) return info.Env().Undefined();
  CHECK_ENV(info);
  uint32_t out[3];
  int r = sock_fstatat(dirfd, name.c_str(), out);
  return r < 0 ? N(info, r) : Numbers(info, out, 3);
}

Napi::Value Fchownat(const Napi::CallbackInfo& info) {
  int dirfd = Int(info, 0, "dirfd");
  std::string name;
  if (!CString(info.Env(), info[1], "name", &name)) return info.Env().Undefined();
  uint32_t uid = Id(info, 2), gid = Id(info, 3);
  CHECK_ENV(info);
  return N(info, sock_fchownat(dirfd, name.c_str(), uid, gid));
}

Napi::Value UnlinkatSame(const Napi::CallbackInfo& info) {
  int dirfd = Int(info, 0, "dirfd");
  std::string name;
  if (!CString(info.Env(), info[1], "name", &name)) return info.Env().Undefined();
  int pin = Int(info, 2, "pin");
  CHECK_ENV(info);
  return N(info, sock_unlinkat_same(dirfd, name.c_str(), pin));
}

// (dirfds, names, pins) → [pid, fd] or -errno. The strings live in this
// frame, which the forked child never leaves.
Napi::Value UnlinkerStart(const Napi::CallbackInfo& info) {
  std::vector<gid_t> dirs, pins;
  std::vector<std::string> names;
  if (!IdList(info, info[0], &dirs) || !CStringList(info.Env(), info[1], "names", &names) || !IdList(info, info[2], &pins)) return info.Env().Undefined();
  if (names.size() != dirs.size() || pins.size() != dirs.size()) {
    Napi::TypeError::New(info.Env(), "dirfds, names and pins must have the same length").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::vector<int> dirfds(dirs.begin(), dirs.end()), pinfds(pins.begin(), pins.end());
  std::vector<const char*> cnames;
  for (const std::string& n : names) cnames.push_back(n.c_str());
  int pid = 0;
  int fd = sock_unlinker_start(dirfds.data(), cnames.data(), pinfds.data(), static_cast<int>(dirfds.size()), &pid);
  if (fd < 0) return N(info, fd);
  int both[2] = {pid, fd};
  return Numbers(info, both, 2);
}

Napi::Value UnlinkerFinish(const Napi::CallbackInfo& info) {
  int pid = Int(info, 0, "pid"), fd = Int(info, 1, "fd"), remove = Int(info, 2, "remove");
  CHECK_ENV(info);
  return N(info, sock_unlinker_finish(pid, fd, remove));
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

// The facts TypeScript shares with this side (constants.h, spawn.h, wait.h).
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("NSIG", N2(env, TSINIT_NSIG));
  c.Set("REAP_BATCH", N2(env, TSINIT_REAP_BATCH));
  c.Set("MAX_FD_MAP", N2(env, TSINIT_MAX_FD_MAP));
  c.Set("WNOHANG", N2(env, WNOHANG));
  c.Set("LISTEN_PID_PREFIX", Napi::String::New(env, TSINIT_LISTEN_PID_PREFIX));
  c.Set("SIGRTMIN", N2(env, sys_sigrtmin()));
  c.Set("SIGRTMAX", N2(env, sys_sigrtmax()));
  Napi::Object steps = Napi::Object::New(env);
#define SPAWN_STEP_NAME(name, value, text) steps.Set(static_cast<uint32_t>(value), Napi::String::New(env, text));
  SPAWN_STEPS(SPAWN_STEP_NAME)
#undef SPAWN_STEP_NAME
  c.Set("spawnSteps", steps);
  Napi::Object ev = Napi::Object::New(env);
  ev.Set("SIGNAL", N2(env, EV_SIGNAL));
  ev.Set("EXIT", N2(env, EV_EXIT));
  ev.Set("EMPTY", N2(env, EV_EMPTY));
  ev.Set("LOST", N2(env, EV_LOST));
  ev.Set("LOST_FORWARDED", N2(env, EV_LOST_FORWARDED));
  c.Set("EVENT", ev);
  c.Freeze();
  return c;
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Constants(env));
  exports.Set("prctlSetChildSubreaper", Napi::Function::New(env, PrctlSetChildSubreaper));
  exports.Set("prctlGetChildSubreaper", Napi::Function::New(env, PrctlGetChildSubreaper));
  exports.Set("setsid", Napi::Function::New(env, Setsid));
  exports.Set("setpgid", Napi::Function::New(env, Setpgid));
  exports.Set("setresuid", Napi::Function::New(env, Setresuid));
  exports.Set("setresgid", Napi::Function::New(env, Setresgid));
  exports.Set("setgroups", Napi::Function::New(env, Setgroups));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("prctlSetPdeathsig", Napi::Function::New(env, PrctlSetPdeathsig));
  exports.Set("isatty", Napi::Function::New(env, Isatty));
  exports.Set("getsid", Napi::Function::New(env, Getsid));
  exports.Set("tcgetpgrp", Napi::Function::New(env, Tcgetpgrp));
  exports.Set("tcgetsid", Napi::Function::New(env, Tcgetsid));
  exports.Set("tiocnotty", Napi::Function::New(env, Tiocnotty));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid));
  exports.Set("reapDrain", Napi::Function::New(env, ReapDrain));
  exports.Set("reapWatch", Napi::Function::New(env, ReapWatch));
  exports.Set("reapUnwatch", Napi::Function::New(env, ReapUnwatch));
  exports.Set("reapReportAll", Napi::Function::New(env, ReapReportAll));
  exports.Set("sigrtRange", Napi::Function::New(env, SigRange));
  exports.Set("signalsStart", Napi::Function::New(env, SignalsStart));
  exports.Set("signalsIgnore", Napi::Function::New(env, SignalsIgnore));
  exports.Set("signalsRoute", Napi::Function::New(env, SignalsRoute));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("_exit", Napi::Function::New(env, Exit));
  // privilege drop and socket hand-off (issue 3)
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetsockoptInt));
  exports.Set("bindInet", Napi::Function::New(env, BindInet));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("prctlSetNoNewPrivs", Napi::Function::New(env, PrctlSetNoNewPrivs));
  exports.Set("prctlGetNoNewPrivs", Napi::Function::New(env, PrctlGetNoNewPrivs));
  exports.Set("prctlSetKeepcaps", Napi::Function::New(env, PrctlSetKeepcaps));
  exports.Set("capget", Napi::Function::New(env, Capget));
  exports.Set("capset", Napi::Function::New(env, Capset));
  exports.Set("capAmbientRaise", Napi::Function::New(env, CapAmbientRaise));
  exports.Set("capAmbientIsSet", Napi::Function::New(env, CapAmbientIsSet));
  exports.Set("capAmbientClearAll", Napi::Function::New(env, CapAmbientClearAll));
  exports.Set("getresuid", Napi::Function::New(env, Getresuid));
  exports.Set("getresgid", Napi::Function::New(env, Getresgid));
  exports.Set("openDirSafe", Napi::Function::New(env, OpenDirSafe));
  exports.Set("bindUnixAt", Napi::Function::New(env, BindUnixAt));
  exports.Set("openatPath", Napi::Function::New(env, OpenatPath));
  exports.Set("fstatat", Napi::Function::New(env, Fstatat));
  exports.Set("fchownat", Napi::Function::New(env, Fchownat));
  exports.Set("unlinkatSame", Napi::Function::New(env, UnlinkatSame));
  exports.Set("unlinkerStart", Napi::Function::New(env, UnlinkerStart));
  exports.Set("unlinkerFinish", Napi::Function::New(env, UnlinkerFinish));
  // pinning before signalling (issue 12 §2)
  exports.Set("pidfdPin", Napi::Function::New(env, PidfdPin));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("PIDFD_PIN_PROC_DIR", Napi::Number::New(env, PIDFD_PIN_PROC_DIR));
  // pipes for the log relay
  exports.Set("pipe2", Napi::Function::New(env, Pipe2));
  exports.Set("writeNowait", Napi::Function::New(env, WriteNowait));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsinit, Init)
