{
  "targets": [
    {
      "target_name": "tsinit",
      "sources": [
        "native/binding.cc",
        "native/bind_proc.cc",
        "native/bind_signals.cc",
        "native/bind_spawn.cc",
        "native/bind_privdrop.cc",
        "native/bind_sockets.cc",
        "native/bind_notify.cc",
        "native/spawn.c",
        "native/sys.c",
        "native/sigcatch.c",
        "native/sigthread.c",
        "native/reap.c",
        "native/privdrop.c",
        "native/sockets.c",
        "native/pipe.c",
        "native/pidfd.c",
        "native/notify.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-fvisibility=hidden"],
      "cflags_c": ["-std=gnu11"],
      # Small units inline without limit (gcc: units under large-unit-insns may
      # grow freely), so once binding.cc became six files each copied
      # node-addon-api's throw paths into every function: .text tripled. This
      # holds each unit to the growth limit the single file had.
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "--param=large-unit-insns=1000"],
      "cflags!": ["-fno-exceptions"]
    },
    {
      "target_name": "tsinit-launcher",
      "type": "executable",
      "sources": ["native/launcher.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-static"]
    }
  ]
}
