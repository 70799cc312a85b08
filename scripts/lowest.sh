#!/usr/bin/env bash
# The lower bounds in pyproject.toml, tried: resolve every direct dependency to the LOWEST version
# its range allows (uv's lowest-direct resolution), install that into .venv-lowest and run the
# suite there. Not part of `make test` (it downloads and takes as long as the suite); run it after
# changing a lower bound: `make lowest`. Needs network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=.venv-lowest
tools=$venv/tools
[ -x "$tools/bin/uv" ] || { "$python" -m venv "$tools" && "$tools/bin/pip" install -q uv; }
uv=$tools/bin/uv
"$uv" venv -q --allow-existing --python "$python" "$venv"
"$uv" pip compile -q pyproject.toml --extra test --resolution lowest-direct \
  --python-version 3.11 -o "$venv/lowest.txt"
"$uv" pip sync -q --python "$venv/bin/python" "$venv/lowest.txt"
"$uv" pip install -q --python "$venv/bin/python" --no-deps -e .
echo "lowest versions of the direct dependencies:"
grep -iE "^($(sed -n '/^dependencies = \[/,/^\]/p' pyproject.toml \
  | grep -oE '^\s*"[A-Za-z0-9_.-]+' | tr -d ' "' | paste -sd'|'))==" "$venv/lowest.txt" \
  | sed 's/^/  /'
QT_QPA_PLATFORM=offscreen "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
