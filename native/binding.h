// The conversions every bind_*.cc shares: JavaScript arguments checked and
// turned into C values (a TypeError for a wrong type, the only thing thrown),
// numbers back out. Inline, so each file that includes this compiles its own
// copy and no symbol is shared. Also the Register* functions, one per
// bind_*.cc, that binding.cc's Init calls.
#ifndef TSINIT_BINDING_H
#define TSINIT_BINDING_H

#include <napi.h>

#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace tsinit {

inline int32_t Int(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  return info[i].As<Napi::Number>().Int32Value();
}

#define CHECK_ENV(info) \
  if ((info).Env().IsExceptionPending()) return (info).Env().Undefined()

inline Napi::Value N2(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
inline Napi::Value N(const Napi::CallbackInfo& info, int64_t v) { return N2(info.Env(), v); }

// A function of one int argument that returns a number: the usual shape here.
#define INT_CALL(Name, fn, what)                     \
  Napi::Value Name(const Napi::CallbackInfo& info) { \
    int arg = Int(info, 0, what);                    \
    CHECK_ENV(info);                                 \
    return N(info, fn(arg));                         \
  }

// A few numbers as a JavaScript array: ids, capability words, a range.
template <typename T>
Napi::Array Numbers(const Napi::CallbackInfo& info, const T* vals, uint32_t n) {
  Napi::Array out = Napi::Array::New(info.Env(), n);
  for (uint32_t i = 0; i < n; i++) out.Set(i, N(info, static_cast<int64_t>(vals[i])));
  return out;
}

// Ids travel as doubles: uid_t is unsigned 32-bit and -1 means "unchanged".
inline uint32_t Id(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "id must be a number").ThrowAsJavaScriptException();
    return 0;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  return d < 0 ? static_cast<uint32_t>(-1) : static_cast<uint32_t>(d);
}

// An array of numbers (ids, signals, descriptors), or a TypeError.
inline bool IdList(const Napi::CallbackInfo& info, Napi::Value v, std::vector<gid_t>* out) {
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

// A Buffer copied into a NUL-terminated string owned by the caller.
inline bool CString(const Napi::Env& env, Napi::Value v, const char* what, std::string* out) {
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

inline bool CStringList(const Napi::Env& env, Napi::Value v, const char* what, std::vector<std::string>* out) {
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

// A string argument (an address literal), or a TypeError.
inline bool Str(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// One export: its JavaScript name and the function that converts for it.
struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

// Sets each of a file's exports (one loop, not one expansion of
// Function::New per name).
inline void SetExports(Napi::Env env, Napi::Object exports, std::initializer_list<Export> table) {
  for (const Export& e : table) exports.Set(e.name, Napi::Function::New(env, e.fn));
}

// Each adds its file's functions to the addon's exports.
void RegisterProc(Napi::Env env, Napi::Object exports);      // bind_proc.cc
void RegisterSignals(Napi::Env env, Napi::Object exports);   // bind_signals.cc
void RegisterSpawn(Napi::Env env, Napi::Object exports);     // bind_spawn.cc
void RegisterPrivdrop(Napi::Env env, Napi::Object exports);  // bind_privdrop.cc
void RegisterSockets(Napi::Env env, Napi::Object exports);   // bind_sockets.cc
void RegisterNotify(Napi::Env env, Napi::Object exports);    // bind_notify.cc

}  // namespace tsinit

#endif
