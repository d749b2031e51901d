#!/usr/bin/env bash
# Records additions to the public API in each package's PublicAPI.Unshipped.txt (review the diff before committing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet restore Konduktor.Storage.sln -v q
for project in src/*/*.csproj; do
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity info
done
