# Shared helpers of the comparison scenarios (sourced, not run).
# Each peer runs as PID 1 of its own PID namespace (unshare --kill-child), so
# killing the one unshare pid we started takes every process of the scenario
# with it; the scenario scripts call ns_stop on every path out (trap EXIT),
# and run.sh runs each scenario under a timeout of its own.

set -u
NS=''   # pid of the unshare we started
P1=''   # host pid of the peer, PID 1 of the namespace

# One fact: peer, point, what was observed (tab-separated, one line).
fact() { printf '%s\t%s\t%s\n' "$1" "$2" "$3"; }

# A fresh scenario directory; removed by ns_stop's caller at exit.
scratch() { D=$(mktemp -d /tmp/tsinit-compare.XXXXXX); chmod 1777 "$D"; }

# waitfor SECONDS CMD...: true as soon as CMD succeeds, false after SECONDS.
waitfor() {
  local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  until "$@"; do
    [ "$(date +%s%N)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# ns_start LOG CMD...: CMD as PID 1 of a new PID namespace; sets NS and P1.
ns_start() {
  local log=$1; shift
  unshare --pid --fork --mount-proc --kill-child "$@" >"$log" 2>&1 </dev/null &
  NS=$!
  waitfor 10 ns_child >/dev/null || { fact "${PEER:-?}" setup "no namespace init appeared"; return 1; }
  P1=$(ns_child)
}
ns_child() { local c; c=$(cat /proc/"$NS"/task/"$NS"/children 2>/dev/null); [ -n "$c" ] && echo "${c%% *}"; }

# ns_stop: SIGKILL to the namespace's init and to our unshare, by pid; the
# kernel then kills every other process of the namespace.
ns_stop() {
  [ -n "$P1" ] && kill -KILL "$P1" 2>/dev/null
  [ -n "$NS" ] && { kill -KILL "$NS" 2>/dev/null; wait "$NS" 2>/dev/null; }
  NS=''; P1=''
}

# ns_wait SECONDS: wait for the init to exit by itself; its status in RC
# (unshare exits with it, or 128+N when the init was killed by signal N).
ns_wait() {
  RC=timeout
  waitfor "$1" ns_gone || return 1
  wait "$NS"; RC=$?
  NS=''; P1=''
}
ns_gone() { ! kill -0 "$P1" 2>/dev/null; }

# Host pids of every process in the namespace of P1.
ns_pids() {
  local me p; me=$(readlink /proc/"$P1"/ns/pid 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p"/ns/pid 2>/dev/null)" = "$me" ] && echo "${p#/proc/}"
  done
}
zombies() { local n=0 p; for p in $(ns_pids); do [ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" = Z ] && n=$((n+1)); done; echo $n; }

# Context switches (voluntary + involuntary) summed over every thread of the given pids.
ctxt() { cat $(for p in "$@"; do echo /proc/"$p"/task/*/status; done) 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n+0}'; }
# idle SECONDS PIDS...: wakeups of those processes over SECONDS.
idle() { local s=$1; shift; local a; a=$(ctxt "$@"); sleep "$s"; echo $(( $(ctxt "$@") - a )); }
# pids in the namespace whose comm is $1.
by_comm() { local p; for p in $(ns_pids); do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$1" ] && echo "$p"; done; }

# catches PID SIGNUM: whether PID has a handler for the signal (SigCgt).
catches() { local m; m=$(awk '/^SigCgt:/ {print $2}' /proc/"$1"/status); (( (0x$m >> ($2 - 1)) & 1 )); }
# ended STAMPFILE T0: "+SECONDS(SIGNAL)" of a slowstop's end, or "killed" when it never got to record it.
ended() { if [ -s "$1" ]; then read -r t sig <"$1"; printf '+%s(%s)' "$(gap "$2" "$t")" "$sig"; else printf 'killed'; fi; }

# Seconds (3 decimals) between two date +%s.%N stamps.
gap() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
# The gaps between consecutive lines of a stamps file, space-separated.
gaps() { awk 'NR > 1 {printf "%s%.1f", (NR > 2 ? " " : ""), $1 - p} {p = $1} END {print ""}' "$1"; }
now() { date +%s.%N; }

# The service programs every peer runs (written once per scenario dir).
programs() {
  # stamp FILE: one time stamp per start.
  cat >"$D/stamp" <<'EOF'
#!/bin/sh
date +%s.%N >>"$1"
EOF
  # ids FILE: the credentials a service runs with, as the kernel has them.
  cat >"$D/ids" <<'EOF'
#!/bin/sh
{ grep -E '^(Uid|Gid|Groups):' /proc/self/status | tr -s '\t ' ' '; echo "HOME=$HOME USER=${USER:-} "; } >"$1"
exec sleep 600
EOF
  # orphan FILE: leaves a child behind that exits after 1 s, then runs on.
  cat >"$D/orphan" <<'EOF'
#!/bin/sh
date +%s.%N >>"$1"
( sleep 1 & )
exec sleep 600
EOF
  # slowstop FILE: needs 1 s to clean up after SIGTERM (or SIGINT, PM2's default);
  # records when it ended and by which signal, and each SIGHUP it gets.
  cat >"$D/slowstop" <<'EOF'
#!/bin/sh
stop() { kill $! 2>/dev/null; sleep 1; echo "$(date +%s.%N) $2" >>"$1"; exit 0; }
trap 'stop "$1" TERM' TERM
trap 'stop "$1" INT' INT
trap 'echo HUP >>"$1.hup"' HUP
date +%s.%N >>"$1.started"
while :; do sleep 600 & wait; done
EOF
  # chatty CHAR: 2000 lines of 3000 CHARs, in the big writes of yes(1).
  cat >"$D/chatty" <<'EOF'
#!/bin/sh
yes "$(head -c 3000 /dev/zero | tr '\0' "$1")" | head -n 2000
exec sleep 600
EOF
  chmod 755 "$D"/stamp "$D"/ids "$D"/orphan "$D"/slowstop "$D"/chatty
}

# slow_stop SCENARIO WHAT PIDS-CMD: the idle and stop facts of a scenario
# whose three slowstop services $D/s1..s3 were just started; PIDS-CMD prints
# the pids of the supervision layer (WHAT) once it runs.
slow_stop() {
  local name=$1 what=$2 cmd=$3 t0 t1
  if waitfor 30 test -s "$D/s3.started" -a -s "$D/s1.started" -a -s "$D/s2.started"; then
    sleep 2
    fact "$PEER" "idle wakeups" "$name: $(idle 5 $($cmd)) context switches of $what over 5 s, 3 services up"
    t0=$(now); kill -TERM "$P1"; ns_wait 40; t1=$(now)
    fact "$PEER" stop "$name: SIGTERM, 3 services needing 1 s each: exited $RC after $(gap "$t0" "$t1") s; they ended at $(for i in 1 2 3; do printf '%s ' "$(ended "$D/s$i" "$t0")"; done)"
  else
    fact "$PEER" stop "$name: the services did not start in 30 s"
  fi
}
init_pid() { echo "$P1"; }

# chatty_logs SCENARIO HOW: the logs fact, once the two chatty services run
# with their output going to $D/c.out.
chatty_logs() {
  # Done once every byte is there (2 x 2000 x 3001; prefixes only add).
  waitfor 40 test "$(stat -c %s "$D/c.out")" -ge 12004000; sleep 1
  fact "$PEER" logs "$1: $2: $(lines "$D/c.out")"
}

# scenarios NAME... -- ARGS...: each peer script's entry. Without ARGS it
# prints the scenario names (run.sh runs each in an invocation of its own,
# under its own timeout); with one, it runs that scenario, the function of
# that name with - as _.
scenarios() {
  local names=() n
  while [ "$1" != -- ]; do names+=("$1"); shift; done; shift
  [ $# -gt 0 ] || { printf '%s\n' "${names[@]}"; return 0; }
  for n in "${names[@]}"; do [ "$n" = "$1" ] && { "${1//-/_}"; return; }; done
  echo "$0: no scenario '$1' (${names[*]})" >&2; return 2
}

# lines FILE: how the two chatty services' output came out.
lines() {
  awk '{ s = $0; sub(/^[^ab]*/, "", s); if (s ~ /^a+$/ && length(s) == 3000) a++; else if (s ~ /^b+$/ && length(s) == 3000) b++; else bad++;
         if ($0 ~ /^[^ab]/ && length(s) == 3000) pre++; if ($0 ~ /^[^ab]* \+ /) cont++ }
       END { printf "%d intact a-lines, %d intact b-lines of 2000 each, %d broken or mixed (%d of them marked as a continuation), %d intact with a prefix", a, b, bad, cont, pre }' "$1"
}

# A user with a supplementary group, for the credential scenarios.
CU=tsinit-cmp CG=tsinit-cmpg
users_add() {
  users_del
  groupadd "$CG" && useradd -M -d /home/$CU -s /usr/sbin/nologin -U -G "$CG" "$CU"
}
users_del() { userdel "$CU" 2>/dev/null; groupdel "$CU" 2>/dev/null; groupdel "$CG" 2>/dev/null; return 0; }
expected_ids() { echo "uid $(id -u $CU), gid $(id -g $CU), groups $(id -G $CU | tr ' ' ,)"; }
# observed FILE: the ids file's content on one line.
observed() { tr '\n' ' ' <"$1" | sed 's/ *$//'; }
