#!/usr/bin/env bash
# Installs the Debian packages convbook needs, only those that are missing.
#   scripts/install-deps.sh              build, test, train and docs dependencies
#   scripts/install-deps.sh --fixtures   also PyTorch, for regenerating tests/fixtures (make fixtures)
#   scripts/install-deps.sh --bench      also OpenBLAS, to compare the SGEMM with (make bench-blas)
# Idempotent and quiet when nothing is missing. Needs root or sudo only when something is.
set -euo pipefail

packages=(
  g++ cmake make
  xtensor-dev libxsimd-dev xtl-dev catch2
  libgnuplot-iostream-dev libboost-iostreams-dev libboost-system-dev libboost-filesystem-dev gnuplot-nox
  libcli11-dev nlohmann-json3-dev libbenchmark-dev
  doxygen libjs-mathjax
)
for arg in "$@"; do
  case "$arg" in
    --fixtures) packages+=(python3-torch python3-torchvision) ;;
    --bench) packages+=(libopenblas-dev) ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (expected --fixtures, --bench or --help)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps.sh: dpkg-query not found: this script installs Debian packages; on another" >&2
  echo "system install these by hand: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps.sh: these Debian packages are missing: ${missing[*]}" >&2
  echo "Installing them needs root, and neither root nor sudo is available." >&2
  echo "Ask an administrator to run: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
