// Exports for the --listen socket hand-off (issue 3; sockets.c): socket,
// bind, listen, close, unix socket files through a directory handle, and the
// unlinker. Argument checks and conversion only; each returns >= 0 or -errno,
// the policy is in src/privileges/.
#include "binding.h"

extern "C" {
#include "sockets.h"
}

namespace tsinit {
namespace {

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

}  // namespace

void RegisterSockets(Napi::Env env, Napi::Object exports) {
  SetExports(env, exports, {
    {"socket", Socket},
    {"setsockoptInt", SetsockoptInt},
    {"bindInet", BindInet},
    {"listen", Listen},
    {"close", Close},
    {"openDirSafe", OpenDirSafe},
    {"bindUnixAt", BindUnixAt},
    {"openatPath", OpenatPath},
    {"fstatat", Fstatat},
    {"fchownat", Fchownat},
    {"unlinkatSame", UnlinkatSame},
    {"unlinkerStart", UnlinkerStart},
    {"unlinkerFinish", UnlinkerFinish},
  });
}

}  // namespace tsinit
