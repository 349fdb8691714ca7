// The addon's entry: Init builds the exports in one place, the constants
// both sides share and each bind_*.cc's functions. The bind_*.cc files (and
// binding.h, their conversions) are the only ones that include napi.h; they
// check arguments and convert, and every function is one call into the C
// files, returning a number >= 0 or -errno (TypeError only for wrong types).
#include "binding.h"

#include <sys/wait.h>

extern "C" {
#include "constants.h"
#include "spawn.h"
#include "sys.h"
}

namespace tsinit {
namespace {

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
  ev.Set("SESSION", N2(env, EV_SESSION));
  c.Set("EVENT", ev);
  c.Freeze();
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Constants(env));
  RegisterProc(env, exports);
  RegisterSignals(env, exports);
  RegisterSpawn(env, exports);
  // privilege drop and socket hand-off (issue 3)
  RegisterPrivdrop(env, exports);
  RegisterSockets(env, exports);
  // several services: readiness wires (issue 10)
  RegisterNotify(env, exports);
  return exports;
}

}  // namespace
}  // namespace tsinit

// The macro pastes its second argument into a name: it must be unqualified.
using tsinit::Init;
NODE_API_MODULE(tsinit, Init)
