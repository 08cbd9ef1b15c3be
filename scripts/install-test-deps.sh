#!/usr/bin/env bash
# Installs the Python modules that the cross-check tests read our files with (numpy, h5py,
# safetensors, anndata) when python3 lacks them. Best effort: without network or pip the tests
# that need a module are reported as skipped, with the module named.
set -uo pipefail

command -v python3 >/dev/null 2>&1 || { echo "install-test-deps: no python3; the Python cross-checks will be skipped" >&2; exit 0; }
missing=()
for m in numpy h5py safetensors anndata; do
  python3 -c "import $m" >/dev/null 2>&1 || missing+=("$m")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! python3 -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pip >/dev/null
fi
echo "install-test-deps: installing ${missing[*]}"
python3 -m pip install -q "${missing[@]}" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "${missing[@]}" \
  || echo "install-test-deps: could not install ${missing[*]}; the tests that need them will be skipped" >&2
exit 0
