#!/usr/bin/env bash
# Runs the benchmarks against a throw-away RadosGW of its own (never part of eng/test.sh).
#
#   eng/bench.sh [--quick | --background-only]
#
# Installs RadosGW when missing (eng/rgw/rgw.sh install), starts one on loopback, runs the checksum quick mode and the
# transfers mode (bench/README.md) in two settings, and always stops the server: the loopback rig (client and server on
# this machine's cores; with the sample, published ReadyToRun as its container image would be, timed as whole processes),
# then an emulated remote link (20 ms round trip, each TCP connection capped at 4 MiB/s per direction).
# then the background-saves case. --quick: small sizes, 2 rounds (a few minutes). --background-only: only the
# background-saves case (1 GiB, 3 rounds; 4 GiB of RadosGW memory). BENCH_SETTINGS=loopback or link runs one setting only; BENCH_ONLY=a,b
# passes --only; BENCH_LINK_ONE_MIB sets the link's single-file size (64 quick, 1024 full).
# Objects live in RAM (memstore): RGW_MEMSTORE_BYTES defaults to 3 GiB (--quick) or 14 GiB (the 4 GiB case runs twice: a first run, then the timed one); deleted objects are
# garbage-collected after every contender's run with `radosgw-admin gc process --include-all`. BENCH_ROUNDS overrides the rounds (5; quick 2).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
background_only=0
[ "${1:-}" = "--quick" ] && quick=(--quick)
[ "${1:-}" = "--background-only" ] && background_only=1

export RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-$(( (${#quick[@]} ? 3 : background_only ? 4 : 14) * 1024 * 1024 * 1024 ))}
rgw_dir=$(mktemp -d "${TMPDIR:-/tmp}/kbench-rgw.XXXXXX")
rmdir "$rgw_dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/kbench-work.XXXXXX")
cleanup() {
  bash eng/rgw/rgw.sh stop "$rgw_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash eng/rgw/rgw.sh install
env_lines=$(bash eng/rgw/rgw.sh start "$rgw_dir")
RGW_ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' <<<"$env_lines")
RGW_ACCESS_KEY=$(sed -n 's/^RGW_ACCESS_KEY=//p' <<<"$env_lines")
RGW_SECRET_KEY=$(sed -n 's/^RGW_SECRET_KEY=//p' <<<"$env_lines")
RGW_PIDS=$(sed -n 's/^RGW_PIDS=//p' <<<"$env_lines")
echo "bench.sh: RadosGW at $RGW_ENDPOINT (memstore $((RGW_MEMSTORE_BYTES >> 30)) GiB)" >&2

dotnet build bench/Konduktor.Storage.Benchmarks -c Release -v q -nologo >&2
bench=(dotnet run -c Release --no-build --project bench/Konduktor.Storage.Benchmarks --)

# Background saves: the training loop's blocked time per save, background vs synchronous (docs in bench/README.md).
background=("${bench[@]}" background --endpoint "$RGW_ENDPOINT" --access-key "$RGW_ACCESS_KEY" --secret-key "$RGW_SECRET_KEY" \
  --size-mib "$( [ ${#quick[@]} -eq 0 ] && echo 1024 || echo 128 )" \
  --gc-command "radosgw-admin --conf '$rgw_dir/ceph.conf' gc process --include-all >/dev/null 2>&1")
if [ "$background_only" -eq 1 ]; then
  "${background[@]}"
  exit 0
fi

if [ ${#quick[@]} -eq 0 ]; then
  "${bench[@]}" checksum
else
  echo "bench.sh: checksum quick mode skipped with --quick (it takes ~20 s; run it without --quick)" >&2
fi
rounds=()
[ -n "${BENCH_ROUNDS:-}" ] && rounds=(--rounds "$BENCH_ROUNDS")
[ -n "${BENCH_ONLY:-}" ] && rounds+=(--only "$BENCH_ONLY")
[ -n "${BENCH_LINK_ONE_MIB:-}" ] && rounds+=(--link-one-mib "$BENCH_LINK_ONE_MIB")
settings=${BENCH_SETTINGS:-loopback,link}
common=(--endpoint "$RGW_ENDPOINT" --access-key "$RGW_ACCESS_KEY" --secret-key "$RGW_SECRET_KEY" --server-pids "$RGW_PIDS"
  --gc-command "radosgw-admin --conf '$rgw_dir/ceph.conf' gc process --include-all >/dev/null 2>&1")

if [[ ",$settings," == *,loopback,* ]]; then
  # The sample as a container image ships it: published, ReadyToRun (needs the crossgen package: restored on first use).
  sample="$work/sample"
  if ! dotnet publish samples/TinyTrainer/TinyTrainer.csproj -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
      -o "$sample" -v q -nologo >&2; then
    echo "bench.sh: ReadyToRun publish failed; the sample runs JIT-only" >&2
    dotnet publish samples/TinyTrainer/TinyTrainer.csproj -c Release -o "$sample" -v q -nologo >&2
  fi
  "${bench[@]}" transfers --setting loopback "${quick[@]}" "${rounds[@]}" "${common[@]}" --work "$work/transfers" --sample "$sample"
fi
if [[ ",$settings," == *,link,* ]]; then
  "${bench[@]}" transfers --setting link "${quick[@]}" "${rounds[@]}" "${common[@]}" --work "$work/transfers-link"
fi
"${background[@]}"
