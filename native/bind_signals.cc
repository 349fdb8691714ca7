// Exports for signals and reaping: installing and routing the handlers
// (sigcatch.c), the signal pipe watched on Node's event loop and turned into
// one array of events per wake-up (sigcatch.c's records and reap.c's drain),
// the drain itself, waitpid and the real-time range. Argument checks and
// conversion only; the mechanism is in the C files.
#include "binding.h"

#include <uv.h>

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

extern "C" {
#include "constants.h"
#include "reap.h"
#include "sigcatch.h"
#include "sigthread.h"
#include "sys.h"
}

namespace tsinit {
namespace {

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

Napi::Value ReapReportSessions(const Napi::CallbackInfo& info) {
  reap_report_sessions(info.Length() > 0 && info[0].ToBoolean().Value());
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
    // Every exit a SIGCHLD of this read announces happened before the read,
    // so the first drain reaps them all: later SIGCHLD records in it add nothing.
    bool reaped = false;
    for (int i = 0; i < n; i++) {
      if (recs[i].sig == SIGCHLD) {
        if (!reaped) Reap();
        reaped = true;
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
// event loop, then the signal thread where it fits (sigthread.h). May be
// called again to add signals (the callback is replaced); those the thread
// does not wait for, the handler takes.
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
    // Once: from here the signal thread takes them, where it fits (not
    // those sigaction refused: they never come).
    std::vector<int> caught;
    for (int s : isigs)
      if (!sigcatch_refused(s)) caught.push_back(s);
    sigthread_start(caught.data(), static_cast<int>(caught.size()));
  }
  watch->callback = Napi::Persistent(info[1].As<Napi::Function>());
  return N(info, 0);
}

// signalsRefused(): the real-time signals signalsStart could not catch.
Napi::Value SignalsRefused(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (int s = 1; s < TSINIT_NSIG; s++)
    if (sigcatch_refused(s)) out.Set(n++, Napi::Number::New(env, s));
  return out;
}

// signalsIgnore(signals: number[]): SIG_IGN for each; 0 or -errno.
Napi::Value SignalsIgnore(const Napi::CallbackInfo& info) {
  std::vector<gid_t> sigs;
  if (!IdList(info, info[0], &sigs)) return info.Env().Undefined();
  std::vector<int> isigs(sigs.begin(), sigs.end());
  return N(info, sigcatch_ignore(isigs.data(), static_cast<int>(isigs.size())));
}

// --- spawn -------------------------------------------------------------------


}  // namespace

void RegisterSignals(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {
    {"waitpid", Waitpid},
    {"reapDrain", ReapDrain},
    {"reapWatch", ReapWatch},
    {"reapUnwatch", ReapUnwatch},
    {"reapReportAll", ReapReportAll},
    {"reapReportSessions", ReapReportSessions},
    {"sigrtRange", SigRange},
    {"signalsRefused", SignalsRefused},
    {"signalsStart", SignalsStart},
    {"signalsIgnore", SignalsIgnore},
    {"signalsRoute", SignalsRoute},
  });
}

}  // namespace tsinit
