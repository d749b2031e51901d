#!/usr/bin/env bash
# Throw-away single-node Ceph RadosGW on loopback for the S3 tests (see /work/shared/TEST-SERVERS.md).
#
#   rgw.sh install      installs ceph-mon ceph-osd radosgw (Debian) when radosgw is missing
#   rgw.sh start DIR    creates a fresh cluster under DIR (must not exist or be empty) and prints
#                         RGW_ENDPOINT=http://127.0.0.1:PORT
#                         RGW_ACCESS_KEY=...
#                         RGW_SECRET_KEY=...
#                         RGW_PIDS=pid1 pid2 pid3
#                       on stdout (everything else goes to stderr). Non-zero exit on failure, after
#                       stopping whatever it started (DIR is kept for the logs until `stop`).
#   rgw.sh stop DIR     kills the daemons whose pid files are under DIR (TERM, then KILL) and deletes DIR.
#
# Environment: RGW_MEMSTORE_BYTES (default 6 GiB; objects live in RAM), RGW_ACCESS_KEY / RGW_SECRET_KEY
# (default: random), RGW_START_TIMEOUT (seconds to wait for the gateway, default 60).
#
# DIR holds everything (ceph.conf, keyring, mon/osd data, admin sockets in run/, logs in log/, our pid
# files in pids/, rgw.env = the printed lines); log/setup.out has per-phase start-up timings. DIR must be
# at most 70 characters (unix socket paths). Ports are probed under the lock $TMPDIR/konduktor-rgw-ports.lock,
# held until the daemons have bound them, so parallel starts in different DIRs never share ports.
set -euo pipefail

die() { echo "rgw.sh: $*" >&2; exit 1; }
log() { echo "rgw.sh: $*" >&2; }

cmd_install() {
  if command -v radosgw >/dev/null 2>&1 && command -v ceph-mon >/dev/null 2>&1 && command -v ceph-osd >/dev/null 2>&1; then
    log "radosgw is already installed"
    return 0
  fi
  local pkgs=(ceph-mon ceph-osd radosgw) out
  export DEBIAN_FRONTEND=noninteractive
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$' || true)" ]; then
    log "apt package cache is empty; running apt-get update"
    out=$("${sudo[@]}" apt-get update -q 2>&1) || { echo "$out" | tail -n 20 >&2; die "apt-get update failed"; }
  fi
  log "installing ${pkgs[*]}"
  if ! out=$("${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" 2>&1); then
    log "install failed; running apt-get update and retrying"
    out=$("${sudo[@]}" apt-get update -q 2>&1) || { echo "$out" | tail -n 20 >&2; die "apt-get update failed"; }
    out=$("${sudo[@]}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" 2>&1) \
      || { echo "$out" | tail -n 20 >&2; die "apt-get install ${pkgs[*]} failed"; }
  fi
  command -v radosgw >/dev/null 2>&1 || die "radosgw still not on PATH after the install"
  log "installed: $(radosgw --version 2>/dev/null | head -n 1)"
}

# Daemons this script knows how to stop (checked against /proc/PID/comm before any kill).
is_ours() { # PID DIR: a ceph-mon/ceph-osd/radosgw started with DIR/ceph.conf (guards against PID reuse)
  local pid=$1 dir=$2 args=()
  [ -r "/proc/$pid/cmdline" ] || return 1
  mapfile -d '' -t args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [ ${#args[@]} -gt 0 ] || return 1 # zombie or gone
  case "${args[0]##*/}" in ceph-mon|ceph-osd|radosgw) ;; *) return 1 ;; esac
  [[ " ${args[*]} " == *" $dir/ceph.conf "* ]]
}

dir_pids() { # DIR -> unique pids from our pid files and the daemons' own pid files
  local dir=$1 f
  for f in "$dir"/pids/*.pid "$dir"/run/*.pid; do
    [ -f "$f" ] && tr -cd '0-9\n' <"$f" | head -n 1
  done | grep -E '^[0-9]+$' | sort -u || true
}

daemon_of() { # PID -> ceph-mon | ceph-osd | radosgw
  local args=()
  mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 0
  [ ${#args[@]} -eq 0 ] || echo "${args[0]##*/}"
}

term_then_kill() { # DIR PID...: SIGTERM, wait up to 10 s, then SIGKILL
  local dir=$1 pid i; shift
  local live=("$@")
  kill -TERM "${live[@]}" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    local still=()
    for pid in "${live[@]}"; do is_ours "$pid" "$dir" && still+=("$pid"); done
    [ ${#still[@]} -gt 0 ] || return 0
    live=("${still[@]}")
    [ "$i" -ne 100 ] || { log "killing ${live[*]} (still running 10 s after SIGTERM)"; kill -KILL "${live[@]}" 2>/dev/null || true; }
    sleep 0.1
  done
  log "processes ${live[*]} survived SIGKILL"
  return 1
}

kill_dir() { # DIR: stops radosgw, then the OSD, then the monitor (an OSD whose monitor is gone waits 5 s)
  local dir=$1 pid kind rc=0
  local pids
  pids=$(dir_pids "$dir")
  for kind in radosgw ceph-osd ceph-mon; do
    local batch=()
    for pid in $pids; do
      is_ours "$pid" "$dir" && [ "$(daemon_of "$pid")" = "$kind" ] && batch+=("$pid")
    done
    [ ${#batch[@]} -eq 0 ] || term_then_kill "$dir" "${batch[@]}" || rc=1
  done
  return $rc
}

cmd_stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: rgw.sh stop DIR"
  [ -e "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  [ "$dir" != / ] || die "refusing to delete /"
  kill_dir "$dir" || true
  rm -rf -- "$dir"
}

# Prints "MON RGW MSGR_MIN" — free loopback ports outside the ephemeral range, as one random block.
pick_ports() {
  "$PYTHON" - <<'PY'
import random, socket
lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
# a stretch of ports that outgoing connections do not get assigned from
ranges = [(r0, r1) for r0, r1 in [(10000, lo - 1), (hi + 1, 65000)] if r1 - r0 > 1000]
if not ranges:
    ranges = [(10000, 65000)]
def free(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
BLOCK = 24  # mon, rgw, 22 for the msgr bind range (the OSD binds 4)
for _ in range(500):
    r0, r1 = random.choice(ranges)
    base = random.randrange(r0, r1 - BLOCK)
    if all(free(p) for p in range(base, base + BLOCK)):
        print(base, base + 1, base + 2)
        break
else:
    raise SystemExit("no free block of loopback ports found")
PY
}

rand_str() { # LENGTH CHARSET
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc "$2")
  done
  printf '%s' "${out:0:$1}"
}

START_DIR=""
START_OK=0
on_start_exit() {
  local rc=$?
  [ "$START_OK" -eq 1 ] && return
  if [ -n "$START_DIR" ] && [ -d "$START_DIR" ]; then
    log "start failed (exit $rc); stopping what was started. Log tails:"
    local f
    for f in "$START_DIR"/log/*.log "$START_DIR"/log/*.out; do
      [ -s "$f" ] || continue
      echo "----- $f" >&2
      tail -n 20 "$f" >&2
    done
    kill_dir "$START_DIR" || true
    log "the files are kept in $START_DIR; 'rgw.sh stop $START_DIR' deletes them"
  fi
}

run_quiet() { # LOGNAME CMD...: runs CMD with output to DIR/log/LOGNAME.out, fails loudly
  local name=$1; shift
  if ! "$@" >>"$START_DIR/log/$name.out" 2>&1; then
    log "failed: $*"
    return 1
  fi
}

cmd_start() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: rgw.sh start DIR"
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool python3 curl flock setsid; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found (run 'rgw.sh install' first)"
  done
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then die "$dir exists and is not empty"; fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  # ceph's unix admin sockets are limited to 107 bytes of path
  [ ${#dir} -le 70 ] || die "DIR path is too long for the admin sockets (${#dir} > 70 chars): $dir"
  START_DIR=$dir
  trap on_start_exit EXIT
  # the system python starts in 0.05 s; a pyenv shim takes ~1 s
  PYTHON=$(command -v /usr/bin/python3 || command -v python3)
  mkdir -p "$dir"/{run,log,pids,mon,osd,rgw,crash,tmp}
  local begin
  begin=$(date +%s.%N)
  phase() { echo "rgw.sh: $(awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.2f", b - a }')s $*" >>"$dir/log/setup.out"; }

  local memstore=${RGW_MEMSTORE_BYTES:-$((6 * 1024 * 1024 * 1024))}
  local access=${RGW_ACCESS_KEY:-$(rand_str 20 'A-Z0-9')}
  local secret=${RGW_SECRET_KEY:-$(rand_str 40 'A-Za-z0-9')}
  local timeout=${RGW_START_TIMEOUT:-60}
  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  # Ports: held under a machine-wide lock from probing until every daemon has bound its ports,
  # so two clusters starting at the same time cannot pick the same ones.
  local lock=${TMPDIR:-/tmp}/konduktor-rgw-ports.lock
  phase "keys generated"
  exec 9>>"$lock"
  flock -w 180 9 || die "timed out waiting for $lock"
  phase "port lock taken"
  local mon_port rgw_port msgr_min msgr_max
  read -r mon_port rgw_port msgr_min < <(pick_ports) || die "could not pick free ports"
  [ -n "$msgr_min" ] || die "could not pick free ports"
  msgr_max=$((msgr_min + 21))

  local conf=$dir/ceph.conf
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon initial members = a
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
ms bind port min = $msgr_min
ms bind port max = $msgr_max
auth cluster required = none
auth service required = none
auth client required = none
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
tmp dir = $dir/tmp
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01

[mon]
mon data = $dir/mon/\$name

[osd]
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = $memstore

[client]
ms mon client mode = crc secure
log file = $dir/log/\$name.log

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
CONF
  export CEPH_CONF=$conf

  phase "ports picked: mon $mon_port, rgw $rgw_port, msgr $msgr_min-$msgr_max"
  # monitor
  run_quiet setup ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *'
  run_quiet setup ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *'
  run_quiet setup monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap"
  mkdir -p "$dir/mon/mon.a"
  run_quiet setup ceph-mon --conf "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  setsid ceph-mon --conf "$conf" -f -i a </dev/null >>"$dir/log/mon.a.out" 2>&1 9>&- &
  echo $! >"$dir/pids/mon.a.pid"

  phase "ceph-mon started"
  # OSD (memstore: objects live in RAM)
  local osd_id
  osd_id=$(timeout 30 ceph --conf "$conf" --connect-timeout 25 osd new "$osd_uuid" 2>>"$dir/log/setup.out") \
    || { log "the monitor did not answer 'ceph osd new'"; exit 1; }
  phase "osd.$osd_id created"
  mkdir -p "$dir/osd/osd.$osd_id"
  run_quiet setup ceph-osd --conf "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid"
  setsid ceph-osd --conf "$conf" -f -i "$osd_id" </dev/null >>"$dir/log/osd.$osd_id.out" 2>&1 9>&- &
  echo $! >"$dir/pids/osd.$osd_id.pid"

  phase "ceph-osd started"
  # RadosGW
  setsid radosgw --conf "$conf" -f -n client.rgw.a </dev/null >>"$dir/log/client.rgw.a.out" 2>&1 9>&- &
  echo $! >"$dir/pids/client.rgw.a.pid"

  local endpoint=http://127.0.0.1:$rgw_port deadline=$((SECONDS + timeout)) code=""
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$endpoint/" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    for f in "$dir"/pids/*.pid; do
      kill -0 "$(cat "$f")" 2>/dev/null || { log "$(basename "$f" .pid) exited during start-up"; exit 1; }
    done
    [ $SECONDS -lt $deadline ] || { log "RadosGW did not answer 200 at $endpoint/ within ${timeout}s (last: ${code:-none})"; exit 1; }
    sleep 0.2
  done
  phase "radosgw answers 200"
  flock -u 9
  exec 9>&-

  run_quiet setup timeout 60 radosgw-admin --conf "$conf" user create --uid=konduktor --display-name="Konduktor tests" \
    --access-key="$access" --secret-key="$secret"

  phase "user created"
  cat >"$dir/rgw.env" <<ENV
RGW_ENDPOINT=$endpoint
RGW_ACCESS_KEY=$access
RGW_SECRET_KEY=$secret
RGW_PIDS=$(cat "$dir"/pids/mon.a.pid "$dir"/pids/osd.*.pid "$dir"/pids/client.rgw.a.pid | tr '\n' ' ' | sed 's/ $//')
ENV
  START_OK=1
  log "RadosGW ready at $endpoint in $(awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s (dir $dir)"
  cat "$dir/rgw.env"
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: rgw.sh install | start DIR | stop DIR" ;;
esac
