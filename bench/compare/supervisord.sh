#!/bin/bash
# supervisord (Debian `supervisor`) scenarios: one fact per line on stdout.
# Run by run.sh under a hard timeout; every scenario's processes live in one
# PID namespace that ns_stop kills by pid on the way out.
. "$(dirname "$0")/lib.sh"
PEER=supervisord
trap 'ns_stop; users_del; rm -rf "${D:-/nonexistent}"' EXIT
trap 'exit 124' TERM INT
V=$(supervisord --version)

conf() { # conf FILE SECTIONS...: a foreground supervisord logging to $D/sup.log
  { printf '[supervisord]\nnodaemon=true\nuser=root\nlogfile=%s/sup.log\npidfile=%s/sup.pid\nchildlogdir=%s\n' "$D" "$D" "$D"
    printf '%s\n' "${@:2}"; } >"$1"
}
log_has() { grep -q "$1" "$D/sup.log" 2>/dev/null; }

# sv-main: order, orphan, restarts, a FATAL program, credentials, HUP, exit status.
sv_main() {
scratch; programs
conf "$D/a.conf" \
  "[program:first]" "command=$D/orphan $D/first.starts" "priority=1" "startsecs=3" \
  "[program:second]" "command=/bin/sh -c '$D/stamp $D/second.starts; exec sleep 600'" "priority=2" \
  "[program:crash]" "command=/bin/sh -c '$D/stamp $D/crash.starts; exit 1'" "startsecs=1" "startretries=3" \
  "[program:ids]" "command=$D/ids $D/ids.out" "user=$CU"
users_add
ns_start "$D/a.out" supervisord -c "$D/a.conf" || exit 1
if waitfor 30 log_has 'crash entered FATAL'; then
  f=$(head -n 1 "$D/first.starts"); s=$(head -n 1 "$D/second.starts")
  fact $PEER "start order" "sv-main: priority=2 started $(gap "$f" "$s") s after priority=1, whose startsecs=3 had not passed (the only readiness is time: startsecs)"
  fact $PEER "restarts" "sv-main: exit 1 loop, startretries=3: $(wc -l <"$D/crash.starts") starts, gaps $(gaps "$D/crash.starts") s, then FATAL; $(grep -c 'crash entered RUNNING' "$D/sup.log") of them logged 'entered RUNNING' (startsecs=1) though each exited at once"
  sleep 2
  fact $PEER "orphans" "sv-main: as PID 1, orphan reaped ($(zombies) zombies), logged '$(grep -o 'reaped unknown pid [0-9]*' "$D/sup.log" | head -n 1)', first started $(wc -l <"$D/first.starts") time(s)"
  fact $PEER "credentials" "sv-main: user=$CU ($(expected_ids)): $(observed "$D/ids.out")"
  kill -0 "$P1" && fact $PEER "essential exit" "sv-main: a program in FATAL: supervisord keeps running"
  kill -HUP "$P1"
  waitfor 15 log_has 'SIGHUP indicating restart' && waitfor 15 log_has 'stopped: ids (terminated by SIGTERM)' &&
    fact $PEER "signals" "sv-main: HUP to supervisord: '$(grep -o 'received SIGHUP indicating restart request' "$D/sup.log")', every program stopped by SIGTERM and started again; nothing forwarded"
  waitfor 15 test "$(wc -l <"$D/first.starts")" -ge 2
  kill -TERM "$P1"; ns_wait 30
  fact $PEER "exit status" "sv-main: SIGTERM after a program went FATAL: supervisord exit status $RC"
else
  fact $PEER main "crash never went FATAL in 30 s"
fi
ns_stop; users_del; rm -rf "$D"

}
# sv-stop: three programs that each need 1 s after SIGTERM; idle wakeups first.
sv_stop() {
scratch; programs
S=(); for i in 1 2 3; do S+=("[program:s$i]" "command=$D/slowstop $D/s$i"); done
conf "$D/b.conf" "${S[@]}"
ns_start "$D/b.out" supervisord -c "$D/b.conf" || exit 1
slow_stop sv-stop supervisord init_pid
ns_stop; rm -rf "$D"

}
# sv-logs: two programs writing 2000 lines of 3000 bytes at once to stdout.
sv_logs() {
scratch; programs
conf "$D/c.conf" \
  "[program:a]" "command=$D/chatty a" "stdout_logfile=/dev/stdout" "stdout_logfile_maxbytes=0" \
  "[program:b]" "command=$D/chatty b" "stdout_logfile=/dev/stdout" "stdout_logfile_maxbytes=0"
ns_start "$D/c.out" supervisord -c "$D/c.conf" || exit 1
chatty_logs sv-logs stdout_logfile=/dev/stdout
ns_stop; rm -rf "$D"
}
version() { fact $PEER version "$V"; }

scenarios sv-main sv-stop sv-logs version -- "$@"
