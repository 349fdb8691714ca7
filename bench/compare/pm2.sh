#!/bin/bash
# pm2-runtime (npm `pm2`, installed by run.sh into /tmp/pm2) scenarios.
. "$(dirname "$0")/lib.sh"
PEER=pm2-runtime
trap 'ns_stop; users_del; rm -rf "${D:-/nonexistent}"' EXIT
trap 'exit 124' TERM INT
PM2=${PM2_PREFIX:-/tmp/pm2}/node_modules/.bin/pm2-runtime
V=$(node -p "require('${PM2_PREFIX:-/tmp/pm2}/node_modules/pm2/package.json').version")

# app NAME SH-SCRIPT [EXTRA-JSON]: one app running /bin/sh -c SCRIPT.
app() { printf '{"name":"%s","script":"/bin/sh","args":["-c",%s],"interpreter":"none"%s}' "$1" "$(node -p 'JSON.stringify(process.argv[1])' "$2")" "${3:+,$3}"; }
eco() { local IFS=,; printf '{"apps":[%s]}\n' "$*" >"$D/eco.json"; }
run() { ns_start "$1" env PM2_HOME="$D/home" HOME="$D" "$PM2" "$D/eco.json"; }
# pm2-runtime's node: the namespace's init itself.

# pm-main: readiness timeout, order, orphan, restarts, credentials, exit status.
pm_main() {
scratch; programs
eco "$(app ready "$D/stamp $D/ready.starts; exec sleep 600" '"wait_ready":true,"listen_timeout":2000')" \
    "$(app second "$D/stamp $D/second.starts; exec sleep 600")" \
    "$(app first "exec $D/orphan $D/first.starts")" \
    "$(app crash "$D/stamp $D/crash.starts; exit 1" '"exp_backoff_restart_delay":500,"max_restarts":4')" \
    "$(app ids "exec $D/ids $D/ids.out" "\"uid\":\"$CU\",\"gid\":\"$CU\"")"
users_add
run "$D/a.out" || exit 1
if waitfor 30 test -s "$D/first.starts" -a -s "$D/ready.starts" -a -s "$D/second.starts"; then
  r=$(head -n 1 "$D/ready.starts"); s=$(head -n 1 "$D/second.starts")
  fact $PEER "start order" "pm-main: the app listed after a wait_ready app started $(gap "$r" "$s") s after it (no dependency setting)"
  sleep 8
  fact $PEER "readiness" "pm-main: wait_ready, listen_timeout=2000, never ready: started $(wc -l <"$D/ready.starts") time(s) in 8 s, logged '$(grep -o 'App \[ready:[0-9]*\] online' "$D/a.out" | head -n 1)' $(grep -c 'App \[ready:[0-9]*\] online' "$D/a.out") time(s): the timeout counted as success"
  fact $PEER "orphans" "pm-main: node as PID 1: $(zombies) zombie(s) 7 s after the orphan exited; first started $(wc -l <"$D/first.starts") time(s)"
  fact $PEER "restarts" "pm-main: exit 1 loop, exp_backoff_restart_delay=500, max_restarts=4: $(wc -l <"$D/crash.starts") starts, gaps $(gaps "$D/crash.starts") s"
  fact $PEER "credentials" "pm-main: uid/gid=$CU ($(expected_ids)): $(observed "$D/ids.out" 2>/dev/null || echo "no report: $(grep -m 1 -i 'error' "$D/a.out")")"
  n=$(wc -l <"$D/first.starts"); kill -HUP "$P1"; sleep 2
  kill -0 "$P1" && fact $PEER "signals" "pm-main: HUP to pm2-runtime: still running, first started $(( $(wc -l <"$D/first.starts") - n )) more time(s): not forwarded; pm2-runtime $(catches "$P1" 1 && echo catches || echo has no handler for) SIGHUP (as PID 1 an unhandled signal is dropped)"
  kill -TERM "$P1"; ns_wait 30
  fact $PEER "exit status" "pm-main: SIGTERM after an app errored: pm2-runtime exit status $RC"
else
  fact $PEER main "the apps did not start in 30 s: $(tail -n 3 "$D/a.out")"
fi
ns_stop; users_del; rm -rf "$D"

}
# pm-exit: the only app exits 3 and is not restarted: how does pm2-runtime end?
pm_exit() {
scratch; programs
eco "$(app main "exit 3" '"autorestart":false')"
t0=$(now); run "$D/e.out" || exit 1
ns_wait 60; t1=$(now)
fact $PEER "exit status" "pm-exit: the only app exited 3 (autorestart=false): pm2-runtime exit status $RC after $(gap "$t0" "$t1") s (auto-exit poll)"
ns_stop; rm -rf "$D"

}
# pm-stop: three apps that each need 1 s after SIGTERM; idle wakeups first.
pm_stop() {
scratch; programs
eco "$(app s1 "exec $D/slowstop $D/s1")" "$(app s2 "exec $D/slowstop $D/s2")" "$(app s3 "exec $D/slowstop $D/s3")"
run "$D/b.out" || exit 1
slow_stop pm-stop "pm2-runtime (all its threads)" init_pid
ns_stop; rm -rf "$D"

}
# pm-logs: two apps writing 2000 lines of 3000 bytes at once; pm2-runtime streams them.
pm_logs() {
scratch; programs
eco "$(app a "exec $D/chatty a")" "$(app b "exec $D/chatty b")"
run "$D/c.out" || exit 1
chatty_logs pm-logs "default output"
ns_stop; rm -rf "$D"
}
version() { fact $PEER version "pm2 $V on node $(node -v)"; }

scenarios pm-main pm-exit pm-stop pm-logs version -- "$@"
