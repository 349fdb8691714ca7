#!/bin/bash
# tsinit --config, through the same scenarios as its peers, for reference
# beside them (its own proofs are the e2e tests the README table names).
. "$(dirname "$0")/lib.sh"
PEER=tsinit
trap 'ns_stop; users_del; rm -rf "${D:-/nonexistent}"' EXIT
trap 'exit 124' TERM INT
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TSINIT=${TSINIT:-$ROOT/bin/tsinit}
if [ ! -x "$TSINIT" ]; then
  skip() { fact $PEER setup "SKIP: no $TSINIT (npm run build first)"; }
  scenarios skip -- "$@"; exit
fi
V=$("$TSINIT" --version)

sh() { node -p 'JSON.stringify(["/bin/sh", "-c", process.argv[1]])' "$1"; }
run() { ns_start "$1" "$TSINIT" -v --log-format json --config "$D/c.toml"; }

# ts-main: orphan, order on readiness, readiness timeout, restarts, credentials, HUP, exit status.
ts_main() {
scratch; programs
cat >"$D/c.toml" <<EOF
[service.first]
command = ["$D/orphan", "$D/first.starts"]
[service.gate]
command = $(sh "$D/stamp $D/gate.starts; sleep 2; echo >&3; exec sleep 600")
ready = { fd = 3 }
[service.second]
command = $(sh "$D/stamp $D/second.starts; exec sleep 600")
after = ["gate"]
[service.never]
command = $(sh "$D/stamp $D/never.starts; exec sleep 600")
ready = { tcp = "127.0.0.1:1", timeout = "2s" }
[service.crash]
command = $(sh "$D/stamp $D/crash.starts; exit 1")
restart = { policy = "on-failure", backoff = "500ms", backoff_max = "4s", limit = 4 }
[service.ids]
command = ["$D/ids", "$D/ids.out"]
user = "$CU"
[service.hup]
command = ["$D/slowstop", "$D/h"]
[service.main]
command = ["$D/slowstop", "$D/m"]
essential = true
EOF
users_add
run "$D/a.out" || exit 1
if waitfor 30 test -s "$D/second.starts" && waitfor 30 grep -q '"service":"crash".*"event":"service-failed"\|"event":"service-failed".*"service":"crash"' "$D/a.out"; then
  fact $PEER "start order" "ts-main: after = [gate] started $(gap "$(cat "$D/gate.starts")" "$(cat "$D/second.starts")") s after gate, which wrote its readiness newline (fd 3) at 2 s"
  fact $PEER "readiness" "ts-main: tcp probe, timeout 2s, never ready: $(grep -c '"service":"never".*"event":"service-start-failed"\|"event":"service-start-failed".*"service":"never"' "$D/a.out") service-start-failed event(s), then restart policy 'no': failed"
  fact $PEER "orphans" "ts-main: as PID 1: orphan reaped ($(zombies) zombies), logged as $(grep -o '"event":"orphan-reaped"[^}]*"service":"[a-z]*"\|"service":"[a-z]*"[^}]*"event":"orphan-reaped"' "$D/a.out" | grep -o '"service":"[a-z]*"' | head -n 1), first started $(wc -l <"$D/first.starts") time(s)"
  fact $PEER "restarts" "ts-main: exit 1 loop, backoff 500ms doubling, limit 4: $(wc -l <"$D/crash.starts") starts, gaps $(gaps "$D/crash.starts") s, then failed"
  fact $PEER "credentials" "ts-main: user = $CU ($(expected_ids)): $(observed "$D/ids.out")"
  kill -HUP "$P1"; waitfor 5 test -s "$D/h.hup"
  fact $PEER "signals" "ts-main: HUP to tsinit: $( [ -s "$D/h.hup" ] && echo 'reached the service (its trap ran)' || echo 'did not reach the service')"
  kill -TERM "$P1"; ns_wait 30
  fact $PEER "exit status" "ts-main: SIGTERM: exit status $RC (the essential service trapped TERM and exited 0)"
else
  fact $PEER main "the services did not get there in 30 s: $(tail -n 3 "$D/a.out")"
fi
ns_stop; users_del; rm -rf "$D"

}
# ts-exit: an essential service exits 3.
ts_exit() {
scratch; programs
printf '[service.main]\ncommand = %s\nessential = true\n[service.other]\ncommand = ["sleep", "600"]\n' "$(sh 'sleep 1; exit 3')" >"$D/c.toml"
t0=$(now); run "$D/e.out" || exit 1
ns_wait 30; t1=$(now)
fact $PEER "exit status" "ts-exit: the essential service exited 3: tsinit exit status $RC after $(gap "$t0" "$t1") s"
ns_stop; rm -rf "$D"

}
# ts-stop: three services that each need 1 s after SIGTERM; idle wakeups first.
ts_stop() {
scratch; programs
for i in 1 2 3; do printf '[service.s%s]\ncommand = ["%s/slowstop", "%s/s%s"]\n' $i "$D" "$D" $i; done >"$D/c.toml"
run "$D/b.out" || exit 1
slow_stop ts-stop "tsinit (all its threads)" init_pid
ns_stop; rm -rf "$D"

}
# ts-logs: two services writing 2000 lines of 3000 bytes at once, log = "prefix".
ts_logs() {
scratch; programs
printf '[tsinit]\nlog = "prefix"\n[service.p]\ncommand = ["%s/chatty", "a"]\n[service.q]\ncommand = ["%s/chatty", "b"]\n' "$D" "$D" >"$D/c.toml"
ns_start "$D/c.out" "$TSINIT" --config "$D/c.toml" || exit 1
chatty_logs ts-logs 'log = "prefix"'
ns_stop; rm -rf "$D"
}
version() { fact $PEER version "$V on node $(node -v)"; }

scenarios ts-main ts-exit ts-stop ts-logs version -- "$@"
