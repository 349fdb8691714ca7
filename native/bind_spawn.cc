// The spawn export: the options object checked and converted into spawn.c's
// spawn_options, every string and pointer array the child will read built
// here, before the clone; then spawn_process, and its { pid } or { errno, step }.
#include "binding.h"

#include <cstring>

extern "C" {
#include "constants.h"
#include "spawn.h"
}

namespace tsinit {
namespace {

// An optional number in the options object, or its default.
int32_t OptInt(Napi::Object o, const char* key, int32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : dflt;
}

// spawn({ path, argv, envp, session, uid?, gid?, groups?, umask, cwd, map, keep, listenPidIndex })
// → { pid } or { errno, step } (errno negative, as everywhere).
// caps: [lo, hi] sets the permitted, inheritable and ambient sets in the
// child; noNewPrivs: 1 sets PR_SET_NO_NEW_PRIVS there.
void SpawnCredentials(Napi::Object o, spawn_options* opt) {
  Napi::Value caps = o.Get("caps");
  if (caps.IsArray() && caps.As<Napi::Array>().Length() == 2) {
    opt->set_caps = 1;
    for (uint32_t i = 0; i < 2; i++) opt->caps[i] = static_cast<unsigned>(caps.As<Napi::Array>().Get(i).As<Napi::Number>().DoubleValue());
  }
  opt->no_new_privs = OptInt(o, "noNewPrivs", 0) != 0 ? 1 : 0;
}

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

  // Every pointer the child will read, built here, before the clone.
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
  SpawnCredentials(o, &opt);

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

}  // namespace

void RegisterSpawn(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {{"spawn", Spawn}});
}

}  // namespace tsinit
