#!/usr/bin/env bash
# Installs what the tests need beyond the build: Open MPI (mpirun and libmpi, for the
# data-parallel tests; the build itself needs no MPI) and the Python modules that the
# cross-check tests read our files with (numpy, h5py, safetensors, anndata). Best effort:
# without network, apt-get or pip the tests that need them are reported as skipped, with what
# is missing named.
set -uo pipefail

if ! command -v mpirun >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-test-deps: installing openmpi-bin libopenmpi-dev"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null; } \
    || echo "install-test-deps: could not install Open MPI; the data-parallel tests will be skipped" >&2
fi

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
