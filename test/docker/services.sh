# The Docker test's checks of several services in one container (sourced by
# run.sh, whose helpers they use: dk, build, name, wait_log, ms, $TMP, $here,
# $root, $tarball): nginx in front of a Node server that uses Redis, under
# tsinit --config, built from test/docker/services as it is.

# The image: test/docker/services as it is, plus the package and sdnotify
# (test/fixtures/sdnotify.c, static: the image has no compiler).
SIMG=tsinit-test:services
build_services() {
  mkdir -p "$TMP/svc" && cp "$here"/services/* "$tarball" "$TMP/svc/" &&
    gcc -static -Os -s -o "$TMP/svc/sdnotify" "$root/test/fixtures/sdnotify.c" &&
    build "$SIMG" Dockerfile "$TMP/svc"
}

# --- several services: nginx -> web (Node) -> redis, in one container -------------
# Starts the services image and waits for tsinit's services-ready event; the
# container is removed when the check's subshell exits, however it ends.
svc_up() {
  c=$(name)
  trap "dk rm -f $c >/dev/null 2>&1" EXIT
  dk image inspect "$SIMG" >/dev/null 2>&1 || { echo "no image (the build failed above)"; return 1; }
  dk run -d --network none --name "$c" "$SIMG" >/dev/null || return 1
  wait_log 60 "$c" '"event":"services-ready"'
}
# A GET through nginx, made inside the container: the Server header and the body, as JSON.
GET="require('http').get('http://127.0.0.1:80/', (r) => { let b = ''; r.setEncoding('utf8'); r.on('data', (d) => (b += d)); r.on('end', () => console.log(JSON.stringify([r.statusCode, String(r.headers.server).replace(/[0-9.]+$/, 'N'), b]))); }).on('error', (e) => { console.log(e.message); process.exit(1); })"

# README's Docker example shows test/docker/services' files: its tsinit.toml
# block as it is, its Dockerfile block from FROM on, but for how tsinit is
# installed (from the registry there, from the packed tarball here).
c_svc_readme() {
  local block file
  block() { awk -v first="$1" '$0 == first { on = 1; next } on && /^```$/ { exit } on' "$root/README.md"; }
  [ "$(block '# tsinit.toml')" = "$(cat "$here/services/tsinit.toml")" ] ||
    { echo "README's tsinit.toml block is not test/docker/services/tsinit.toml:"; diff <(block '# tsinit.toml') "$here/services/tsinit.toml"; return 1; }
  file=$(sed -n '/^FROM /,$p' "$here/services/Dockerfile" | sed '/^COPY tsinit-\*\.tgz /d; s|^RUN npm install -g /tmp/tsinit-\*\.tgz .*|RUN npm install -g tsinit|')
  [ "$(block '# Dockerfile')" = "$file" ] ||
    { echo "README's Dockerfile block is not test/docker/services/Dockerfile:"; diff <(block '# Dockerfile') <(echo "$file"); return 1; }
  echo "its Dockerfile and tsinit.toml blocks are the tested files"
}

c_svc_request() {
  local c one two
  svc_up || return 1
  one=$(dk exec "$c" node -e "$GET" 2>&1) && two=$(dk exec "$c" node -e "$GET" 2>&1) || { echo "GET failed: $one $two"; return 1; }
  [ "$one" = '[200,"nginx/N","hits=1\n"]' ] && [ "$two" = '[200,"nginx/N","hits=2\n"]' ] || { echo "two GETs through nginx gave $one then $two"; return 1; }
  echo "GET / twice through nginx: $one, $two"
}

c_svc_start() {
  local c
  svc_up || return 1
  dk logs "$c" >"$TMP/$c.out" 2>"$TMP/$c.err" || return 1
  node "$here/services-logs.mjs" start "$TMP/$c.out" "$TMP/$c.err"
}

# A process's start time (field 22 of /proc/PID/stat, counted after the
# parenthesised name, which may hold spaces); empty once it is gone.
starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# docker stop with its default 10 s: exit 0, soon, each service stopped by its
# own signal and saying so, in reverse order, and none of the container's
# processes left on the host.
c_svc_stop() {
  local c pids pid before=() t0 t1 code left=
  svc_up || return 1
  pids=$(dk top "$c" -eo pid | tail -n +2 | xargs)
  [ "$(wc -w <<<"$pids")" -ge 5 ] || { echo "expected tsinit, redis, web, nginx's master and worker: $(dk top "$c" 2>&1)"; return 1; }
  # Each pid with its start time, so a pid reused meanwhile is not taken for a survivor.
  for pid in $pids; do before+=("$pid:$(starttime "$pid")"); done
  t0=$(ms)
  dk stop "$c" >/dev/null || { echo "docker stop failed"; return 1; }
  t1=$(ms)
  code=$(dk inspect -f '{{.State.ExitCode}} {{.State.Running}}' "$c")
  dk logs "$c" >"$TMP/$c.out" 2>"$TMP/$c.err" || return 1
  for pid in "${before[@]}"; do
    [ "$(starttime "${pid%%:*}")" = "${pid#*:}" ] && left+=" ${pid%%:*}"
  done
  [ "$code" = "0 false" ] || { echo "exit code and running: $code, not 0 false"; tail -n 5 "$TMP/$c.err"; return 1; }
  [ $((t1 - t0)) -lt 5000 ] || { echo "docker stop took $((t1 - t0)) ms (Docker's limit is 10 s)"; return 1; }
  [ -z "$left" ] || { echo "still running on the host after docker stop:$left"; return 1; }
  node "$here/services-logs.mjs" stop "$TMP/$c.out" "$TMP/$c.err" || return 1
  echo "docker stop took $((t1 - t0)) ms, exit 0; none of the ${#before[@]} processes left"
}
