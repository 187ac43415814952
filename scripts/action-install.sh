#!/usr/bin/env bash
# The composite action's install step (action.yml): a virtualenv with opsgh's pinned dependencies, reused
# when one with the same pins exists in the runner's tool cache. Prints `python=<path>` to GITHUB_OUTPUT.
#
# - uv is pinned (UV_VERSION) and installed with pip into the tool cache once per runner;
# - the dependencies are pyproject.toml's, pinned by constraints.txt; the virtualenv's name is their hash,
#   so new pins get a new virtualenv and an old one is never half-upgraded;
# - `.complete` is written last: an install that was interrupted is redone, not reused.
set -euo pipefail

UV_VERSION="0.13.8"
here="${OPSGH_ACTION_PATH:?OPSGH_ACTION_PATH is not set}"
cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/opsgh"
key="$(cat "$here/pyproject.toml" "$here/constraints.txt" | sha256sum | cut -c1-16)"
venv="$cache/venv-$key"
python="$venv/bin/python"

if [ -f "$venv/.complete" ] && [ -x "$python" ]; then
  echo "opsgh: reusing $venv"
else
  uv_home="$cache/uv-$UV_VERSION"
  if [ ! -x "$uv_home/bin/uv" ]; then
    rm -rf "$uv_home"
    python3 -m pip install --quiet --disable-pip-version-check --target "$uv_home" "uv==$UV_VERSION"
  fi
  rm -rf "$venv"
  "$uv_home/bin/uv" venv --quiet --python python3 "$venv"
  VIRTUAL_ENV="$venv" "$uv_home/bin/uv" pip install --quiet -c "$here/constraints.txt" -r "$here/pyproject.toml"
  touch "$venv/.complete"
  echo "opsgh: installed the dependencies into $venv"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "python=$python" >> "$GITHUB_OUTPUT"
else
  echo "python=$python"
fi
