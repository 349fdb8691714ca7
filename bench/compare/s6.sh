#!/bin/bash
# s6 (Debian `s6`: s6-svscan as PID 1, one service directory each) scenarios.
# s6-overlay itself (s6-rc, its stage 1-3 scripts) is not packaged: these
# check the s6 layer that s6-overlay runs on, and say so in each fact.
. "$(dirname "$0")/lib.sh"
PEER=s6
trap 'ns_stop; users_del; rm -rf "${D:-/nonexistent}"' EXIT
trap 'exit 124' TERM INT
V=$(dpkg-query -W -f '${Version}' s6)

svc() { # svc NAME RUN-SCRIPT-BODY [notification-fd]
  mkdir -p "$D/scan/$1"
  printf '#!/bin/sh\n%s\n' "$2" >"$D/scan/$1/run"; chmod 755 "$D/scan/$1/run"
  [ -n "${3:-}" ] && echo "$3" >"$D/scan/$1/notification-fd"
  return 0
}
up() { s6-svstat "$D/scan/$1" 2>/dev/null | grep -q '^up'; }

# s6-main: orphan, readiness, restarts, credentials, HUP, exit status.
s6_main() {
scratch; programs
svc first "exec $D/orphan $D/first.starts"
svc ready "$D/stamp $D/ready.starts; sleep 2; echo >&3; exec sleep 600" 3
svc crash "$D/stamp $D/crash.starts; exit 1"
svc ids "exec s6-setuidgid $CU $D/ids $D/ids.out"
users_add
ns_start "$D/a.out" s6-svscan "$D/scan" || exit 1
if waitfor 20 up ready; then
  t0=$(now); s6-svwait -U -t 10000 "$D/scan/ready"; t1=$(now)
  fact $PEER "readiness" "s6-main: s6-svwait -U (notification-fd 3) returned $(gap "$(cat "$D/ready.starts")" "$t1") s after the start, the service wrote its newline at 2 s; start order on it needs s6-rc (not packaged)"
  sleep 4
  fact $PEER "orphans" "s6-main: s6-svscan as PID 1: orphan reaped ($(zombies) zombies), nothing logged ($(wc -c <"$D/a.out") bytes on its stdout/stderr), first started $(wc -l <"$D/first.starts") time(s)"
  fact $PEER "restarts" "s6-main: exit 1 loop: $(wc -l <"$D/crash.starts") starts, gaps $(gaps "$D/crash.starts") s, no limit in s6-supervise"
  fact $PEER "credentials" "s6-main: s6-setuidgid $CU ($(expected_ids)): $(observed "$D/ids.out")"
  kill -0 "$P1" && fact $PEER "essential exit" "s6-main: a crash-looping service: s6-svscan keeps running (s6-overlay: a finish script must call halt)"
  n=$(wc -l <"$D/first.starts"); kill -HUP "$P1"; sleep 2
  kill -0 "$P1" && fact $PEER "signals" "s6-main: HUP to s6-svscan: still running, first started $(( $(wc -l <"$D/first.starts") - n )) more time(s), its sleep $(up first && echo 'not signalled' || echo 'down')"
  t0=$(now); kill -TERM "$P1"; ns_wait 30; t1=$(now)
  fact $PEER "exit status" "s6-main: SIGTERM with a crash-looping service: s6-svscan exit status $RC after $(gap "$t0" "$t1") s"
else
  fact $PEER main "the services did not come up in 20 s"
fi
ns_stop; users_del; rm -rf "$D"

}
# s6-stop: three services that each need 1 s after SIGTERM; idle wakeups first.
s6_stop() {
scratch; programs
for i in 1 2 3; do svc "s$i" "exec $D/slowstop $D/s$i"; done
ns_start "$D/b.out" s6-svscan "$D/scan" || exit 1
s6_layer() { by_comm s6-svscan; by_comm s6-supervise; }
slow_stop s6-stop "s6-svscan and its 3 s6-supervise" s6_layer
ns_stop; rm -rf "$D"

}
# s6-logs: two services writing 2000 lines of 3000 bytes at once to s6-svscan's stdout.
s6_logs() {
scratch; programs
svc a "exec $D/chatty a"; svc b "exec $D/chatty b"
ns_start "$D/c.out" s6-svscan "$D/scan" || exit 1
chatty_logs s6-logs "no logger service"
ns_stop; rm -rf "$D"
}
version() { fact $PEER version "s6 $V (Debian); s6-overlay not run"; }

scenarios s6-main s6-stop s6-logs version -- "$@"
