#!/usr/bin/env bash
# The one test command: builds the solution and runs every test project.
# Ends with a plain line "N passed, N failed, N skipped" and exits non-zero on any failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

configuration="${CONFIGURATION:-Release}"
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

echo "== test servers"
# The S3 tests start a throw-away Ceph RadosGW on loopback; install it when it is missing.
if ! bash eng/rgw/rgw.sh install; then
  echo "installing Ceph RadosGW failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

echo "== build ($configuration)"
if ! dotnet build Konduktor.Storage.sln -c "$configuration" -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

echo "== test"
dotnet test Konduktor.Storage.sln -c "$configuration" --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}

# Sum the counters of every test run (one .trx per test project).
passed=0 failed=0 skipped=0 runs=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # The VSTest trx logger leaves skipped tests out of "executed" and does not count them as notExecuted.
  skipped=$((skipped + $(get total) - $(get executed)))
  runs=$((runs + 1))
done

projects=$(find tests -name '*.Tests.csproj' | wc -l)
if [ "$runs" -lt "$projects" ]; then
  echo "only $runs of $projects test projects reported results (a test host crashed?)"
  failed=$((failed + projects - runs))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited with $status"
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
