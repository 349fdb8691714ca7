// Exports for several services' readiness wires (native/notify.c): sd_notify
// datagrams received and sent, a descriptor read, and a descriptor watched for
// readability on Node's event loop (the notify socket, an s6 notification
// pipe). Argument checks and conversion only.
#include "binding.h"

#include <uv.h>

#include <cerrno>
#include <vector>

extern "C" {
#include "notify.h"
}

namespace tsinit {
namespace {

// One datagram as a Buffer, or -errno (-EAGAIN: none queued).
Napi::Value NotifyRecv(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd");
  CHECK_ENV(info);
  static char buf[4096];
  int n = nt_recv(fd, buf, sizeof buf);
  if (n < 0) return N(info, n);
  return Napi::Buffer<char>::Copy(info.Env(), buf, static_cast<size_t>(n));
}

Napi::Value NotifySend(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsBuffer()) {
    Napi::TypeError::New(info.Env(), "notifySend(path: Buffer, message: Buffer)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  Napi::Buffer<char> p = info[0].As<Napi::Buffer<char>>(), m = info[1].As<Napi::Buffer<char>>();
  return N(info, nt_send(p.Data(), p.Length(), m.Data(), m.Length()));
}

// read(fd, max) → Buffer (empty at EOF) or -errno.
Napi::Value FdRead(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd");
  CHECK_ENV(info);
  static char buf[512];
  int n = nt_read(fd, buf, sizeof buf);
  if (n < 0) return N(info, n);
  return Napi::Buffer<char>::Copy(info.Env(), buf, static_cast<size_t>(n));
}

// A descriptor watched for readability on the event loop (uv_poll), one
// callback per wake-up; level-triggered, so the callback reads what it wants.
struct FdWatch {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context;
  int fd;
};
std::vector<FdWatch*> fd_watches;

void OnFdReadable(uv_poll_t* handle, int status, int events) {
  (void)status;
  (void)events;
  FdWatch* w = static_cast<FdWatch*>(handle->data);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  w->callback.MakeCallback(env.Global(), {N2(env, w->fd)}, *w->context);
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Value FdWatchStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Int(info, 0, "fd");
  CHECK_ENV(info);
  if (info.Length() < 2 || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "onReadable must be a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return N(info, -EINVAL);
  FdWatch* w = new FdWatch();
  w->env = env;
  w->fd = fd;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->context = new Napi::AsyncContext(env, "tsinit:fd");
  w->poll.data = w;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r == 0) r = uv_poll_start(&w->poll, UV_READABLE, OnFdReadable);
  if (r < 0) {
    delete w->context;
    delete w;
    return N(info, r);
  }
  fd_watches.push_back(w);
  return N(info, 0);
}

// Stops watching fd (the caller closes it afterwards).
Napi::Value FdWatchStop(const Napi::CallbackInfo& info) {
  int fd = Int(info, 0, "fd");
  CHECK_ENV(info);
  for (size_t i = 0; i < fd_watches.size(); i++) {
    FdWatch* w = fd_watches[i];
    if (w->fd != fd) continue;
    fd_watches.erase(fd_watches.begin() + static_cast<long>(i));
    uv_poll_stop(&w->poll);
    w->callback.Reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) {
      FdWatch* dead = static_cast<FdWatch*>(h->data);
      delete dead->context;
      delete dead;
    });
    return N(info, 0);
  }
  return N(info, -ENOENT);
}

}  // namespace

void RegisterNotify(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {
    {"notifyRecv", NotifyRecv},
    {"notifySend", NotifySend},
    {"fdRead", FdRead},
    {"fdWatchStart", FdWatchStart},
    {"fdWatchStop", FdWatchStop},
  });
}

}  // namespace tsinit
