#!/bin/bash
# Re-runs every "run here" check of README's "Compared with other supervisors"
# table and prints one line per fact: peer <TAB> point <TAB> observed.
#   bash bench/compare/run.sh [tsinit] [supervisord] [s6] [pm2]     (default: all four)
# Needs root (PID namespaces, a test user) and, for tsinit, `npm run build`. Installs the peers it lacks:
# Debian `supervisor` and `s6` with apt-get, npm `pm2@$PM2_VERSION` into
# $PM2_PREFIX (default /tmp/pm2). Each scenario runs under a hard timeout, in
# a PID namespace of its own, killed by pid at its end.
set -u
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (PID namespaces, a test user)" >&2; exit 2; }
PM2_VERSION=${PM2_VERSION:-7.0.4}
export PM2_PREFIX=${PM2_PREFIX:-/tmp/pm2}
PEERS=("$@"); [ ${#PEERS[@]} -gt 0 ] || PEERS=(tsinit supervisord s6 pm2)

apt() { apt-get -o DPkg::Lock::Timeout=600 install -y "$@" >/dev/null 2>&1 ||
  { apt-get -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 && apt-get -o DPkg::Lock::Timeout=600 install -y "$@" >/dev/null 2>&1; }; }
need() {
  case $1 in
    tsinit) true ;;  # tsinit.sh says SKIP when the build is missing
    supervisord) command -v supervisord >/dev/null || apt supervisor ;;
    s6) command -v s6-svscan >/dev/null || apt s6 ;;
    pm2) [ -x "$PM2_PREFIX/node_modules/.bin/pm2-runtime" ] ||
      npm install --prefix "$PM2_PREFIX" --no-audit --no-fund "pm2@$PM2_VERSION" >/dev/null 2>&1 ;;
  esac
}

printf 'peer\tpoint\tobserved\n'
rc=0
for p in "${PEERS[@]}"; do
  case $p in tsinit | supervisord | s6 | pm2) ;; *) echo "run.sh: unknown peer '$p' (tsinit, supervisord, s6, pm2)" >&2; exit 2 ;; esac
  if ! need "$p"; then printf '%s\tsetup\tSKIP: could not install it\n' "$p"; rc=1; continue; fi
  # Each scenario in an invocation of its own; none needs a minute, the
  # bound is for a hung peer (its EXIT trap then kills its namespace).
  for sc in $(bash "./$p.sh"); do
    timeout -k 5 120 bash "./$p.sh" "$sc"
    s=$?; [ $s = 0 ] || { printf '%s\t%s\tthe scenario ended with status %s\n' "$p" "$sc" "$s"; rc=1; }
  done
done
exit $rc
