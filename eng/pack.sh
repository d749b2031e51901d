#!/usr/bin/env bash
# Packs every package (library, S3, GCS, the konduktor-storage tool) into artifacts/packages/: .nupkg with the package's
# README and XML docs, .snupkg symbols, SourceLink, as a deterministic CI build.
# Usage: eng/pack.sh [extra dotnet pack arguments, e.g. -p:Version=0.2.0]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="$root/artifacts/packages"
rm -rf "$out"
mkdir -p "$out"

# ContinuousIntegrationBuild normalises paths in the PDBs (/_/…) so that the same commit gives the same binaries.
dotnet pack eng/packages.slnf -c Release -nologo -clp:ErrorsOnly -o "$out" \
  -p:ContinuousIntegrationBuild=true -p:Deterministic=true "$@"

# SourceLink maps the PDBs to the git remote 'origin' (a CI checkout has one); a clone without a remote packs without it.
if ! git remote get-url origin >/dev/null 2>&1; then
  echo "note: this repository has no 'origin' remote, so the packages carry no SourceLink"
fi

count=$(find "$out" -name '*.nupkg' | wc -l)
symbols=$(find "$out" -name '*.snupkg' | wc -l)
echo "packed $count packages and $symbols symbol packages into $out"
[ "$count" -eq 4 ] && [ "$symbols" -eq 4 ]
