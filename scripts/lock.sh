#!/usr/bin/env bash
# Compiles the lock (run through `make lock`): scripts/lock.sh PIP_COMPILE [UPGRADE]
#   requirements/test.txt  the app, the test and dev extras, and the build backend: everything
#                          `make test` and `make bench` install, with hashes;
#   requirements/app.txt   the app and the build backend only (`make run`), at the same versions.
# UPGRADE empty: keep every pin, add what pyproject.toml gained; 1: newest releases the ranges
# allow; a package name (or several, comma-separated): upgrade just those.
set -euo pipefail
compile=$1
upgrade=${2:-}
cd "$(dirname "$0")/.."
export CUSTOM_COMPILE_COMMAND="make lock"
common=(--quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url
        --no-emit-find-links --resolver=backtracking)
flags=()
case "$upgrade" in
  "") ;;
  1|all|yes) flags+=(--upgrade) ;;
  *) IFS=, read -ra names <<<"$upgrade"; for n in "${names[@]}"; do flags+=(--upgrade-package "$n"); done ;;
esac
"$compile" "${common[@]}" "${flags[@]}" --extra test --extra dev \
  -o requirements/test.txt pyproject.toml requirements/build.in
# The app's lock follows the test lock's versions (app.in constrains with it), from scratch.
rm -f requirements/app.txt
"$compile" "${common[@]}" -o requirements/app.txt \
  pyproject.toml requirements/build.in requirements/app.in
echo "locked: $(grep -cE '^[a-zA-Z]' requirements/test.txt) packages in requirements/test.txt," \
     "$(grep -cE '^[a-zA-Z]' requirements/app.txt) in requirements/app.txt"
