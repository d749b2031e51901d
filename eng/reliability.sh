#!/usr/bin/env bash
# The reliability campaigns, with published figures (docs/reliability.md):
#   1. kill campaign on the file-system store: the sample's pod program SIGKILLed at random moments, every restart checked
#   2. the same on Ceph RadosGW (started here on loopback, stopped by PID on exit)
#   3. fault campaigns: saves and restores through a fault-injecting proxy in front of RadosGW and of the GCS test server
#
#   eng/reliability.sh [--quick] [--seed N] [--fs-kills N] [--rgw-kills N] [--fault-transfers N]
#
# Full run: 200 kills on the file system, 50 on RadosGW, 500 fault-injected transfers per store. --quick: 10, 5 and 50.
# Prints the figures of each campaign (a "FIGURES {json}" line each, also saved under artifacts/reliability/) and a
# final summary line; exits non-zero on any lost committed checkpoint, torn restore, hang or unclear error.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() { sed -n '7p' "$0" | sed 's/^# *//' >&2; exit 2; }
quick=0 seed="" fs_kills="" rgw_kills="" fault_transfers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --seed) seed="${2:?--seed needs a number}"; shift ;;
    --fs-kills) fs_kills="${2:?--fs-kills needs a number}"; shift ;;
    --rgw-kills) rgw_kills="${2:?--rgw-kills needs a number}"; shift ;;
    --fault-transfers) fault_transfers="${2:?--fault-transfers needs a number}"; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument: $1" >&2; usage ;;
  esac
  shift
done
for n in "$seed" "$fs_kills" "$rgw_kills" "$fault_transfers"; do
  [[ -z "$n" || "$n" =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; usage; }
done
if [ "$quick" -eq 1 ]; then
  : "${fs_kills:=10}" "${rgw_kills:=5}" "${fault_transfers:=50}"
else
  : "${fs_kills:=200}" "${rgw_kills:=50}" "${fault_transfers:=500}"
fi
: "${seed:=$(( (RANDOM << 15 | RANDOM) % 1000000 ))}"

artifacts="$root/artifacts/reliability"
rm -rf "$artifacts"
mkdir -p "$artifacts"
harness="$root/tests/Konduktor.Storage.Reliability/bin/Release/net10.0/Konduktor.Storage.Reliability.dll"
# A pod that outlives the harness's per-pod deadline counts as hung; these bound a campaign as a whole.
campaign_timeout="${RELIABILITY_CAMPAIGN_TIMEOUT:-3600}"
echo "== reliability: seed $seed, $fs_kills kills on the file system, $rgw_kills on RadosGW, $fault_transfers fault-injected transfers per store"

echo "== test servers"
bash eng/rgw/rgw.sh install || { echo "installing Ceph RadosGW failed"; echo "reliability: FAIL (no RadosGW)"; exit 1; }

echo "== build"
if ! dotnet build Konduktor.Storage.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "reliability: FAIL (build)"
  exit 1
fi

echo "== RadosGW"
rgw_dir="$(mktemp -d "${TMPDIR:-/tmp}/konduktor-rel-XXXXXX")/rgw"
rgw_pids=""
stop_rgw() {
  bash eng/rgw/rgw.sh stop "$rgw_dir" >/dev/null 2>&1 && return 0
  # rgw.sh could not stop them: SIGKILL the daemons it started, by PID, only if they still are ceph daemons.
  for pid in $rgw_pids; do
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in ceph-mon|ceph-osd|radosgw) kill -KILL "$pid" 2>/dev/null ;; esac
  done
}
trap 'stop_rgw; rmdir "$(dirname "$rgw_dir")" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
if ! bash eng/rgw/rgw.sh start "$rgw_dir" >"$artifacts/rgw.env"; then
  echo "reliability: FAIL (RadosGW did not start; logs in $rgw_dir/log)"
  exit 1
fi
rgw_value() { sed -n "s/^$1=//p" "$artifacts/rgw.env"; }
rgw_pids="$(rgw_value RGW_PIDS)"
RGW_ENDPOINT="$(rgw_value RGW_ENDPOINT)" RGW_ACCESS_KEY="$(rgw_value RGW_ACCESS_KEY)" RGW_SECRET_KEY="$(rgw_value RGW_SECRET_KEY)"
export RGW_ENDPOINT RGW_ACCESS_KEY RGW_SECRET_KEY
echo "RadosGW at $RGW_ENDPOINT (pids $rgw_pids)"

failed=()
summary=()
run_kill_campaign() { # NAME STORE KILLS
  local name=$1 store=$2 kills=$3 status
  echo "== kill campaign: $name ($kills kills)"
  timeout "$campaign_timeout" dotnet "$harness" kill-campaign --store "$store" --kills "$kills" --seed "$seed" \
    --report "$artifacts/kill-$store.json" 2>&1 | tee "$artifacts/kill-$store.log" | grep -E '^(kill campaign|FAILURE|FIGURES|[a-z0-9]+: )' 
  status=${PIPESTATUS[0]}
  local line
  line="$(grep -E "^$store: [0-9]+ kills" "$artifacts/kill-$store.log" | tail -n 1)"
  if [ "$status" -eq 0 ]; then
    summary+=("$name PASS")
  else
    [ "$status" -eq 124 ] && echo "$name: the campaign did not finish within $campaign_timeout s (hung)"
    failed+=("$name")
    summary+=("$name FAIL (exit $status${line:+; $line})")
  fi
}

run_kill_campaign "file system" fs "$fs_kills"
run_kill_campaign "RadosGW" s3 "$rgw_kills"

# The fault campaign of one store's test project: its figures are judged by the harness.
run_fault_campaign() {
  local name="$1" project="$2" id="$3"
  echo "== fault campaign on $name ($fault_transfers transfers)"
  KONDUKTOR_FAULT_CAMPAIGN_TRANSFERS="$fault_transfers" KONDUKTOR_FAULT_CAMPAIGN_SEED="$seed" \
    KONDUKTOR_FAULT_CAMPAIGN_REPORT="$artifacts/faults-$id.json" \
    timeout "$campaign_timeout" dotnet test "$project" -c Release --no-build -nologo \
    --filter Category=FaultCampaign --logger "console;verbosity=normal" >"$artifacts/faults-$id.log" 2>&1
  local test_status=$?
  tail -n 5 "$artifacts/faults-$id.log"
  dotnet "$harness" fault-report "$artifacts/faults-$id.json"
  local report_status=$?
  if [ "$test_status" -eq 0 ] && [ "$report_status" -eq 0 ]; then
    summary+=("faults on $name PASS")
  else
    failed+=("faults-$id")
    summary+=("faults on $name FAIL (dotnet test exit $test_status, figures exit $report_status; log in $artifacts/faults-$id.log)")
  fi
}

run_fault_campaign "RadosGW" tests/Konduktor.Storage.S3.Tests s3
run_fault_campaign "the GCS test server" tests/Konduktor.Storage.Gcs.Tests gcs

result="PASS"
[ ${#failed[@]} -eq 0 ] || result="FAIL"
joined="$(printf '%s; ' "${summary[@]}")"
echo "reliability: $result (seed $seed): ${joined%; }"
[ ${#failed[@]} -eq 0 ]
