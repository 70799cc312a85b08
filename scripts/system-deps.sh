#!/usr/bin/env bash
# Installs (as root) or names (otherwise) the Debian packages the app or the tests need.
#   scripts/system-deps.sh run    Qt's xcb platform libraries, to open a window
#   scripts/system-deps.sh test   what the test suite needs (offscreen Qt, DICOM tools)
set -euo pipefail
mode=${1:-run}
here=$(cd "$(dirname "$0")/.." && pwd)
py="$here/.venv/bin/python"

# Libraries Qt loads that a bare Debian lacks; libxcb-cursor0 is dlopen'ed, so ldd misses it.
run_pkgs=(libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
          libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
          libxkbcommon0 libfontconfig1 libegl1 libgl1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core)
test_pkgs=(libxkbcommon0 libfontconfig1 libegl1 libgl1 libglib2.0-0 libdbus-1-3
           fonts-dejavu-core dcmtk dicom3tools orthanc orthanc-dicomweb openssl poppler-utils)

missing_pkgs() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

no_display() {
  [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]
}

case "$mode" in
  run)  wanted=("${run_pkgs[@]}")
        # Without a display the viewer runs under xvfb-run: bring it along.
        if no_display; then wanted+=(xvfb xauth); fi ;;
  test) wanted=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null || exit 0   # not Debian: trust the machine
need=$(missing_pkgs "${wanted[@]}")
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: $need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need >/dev/null
    # The tests start their own Orthanc on free loopback ports; the system service is not wanted.
    if command -v systemctl >/dev/null && systemctl is-active --quiet orthanc 2>/dev/null; then
      systemctl disable --now orthanc >/dev/null 2>&1 || true
    fi
  else
    echo "Prolo Planner needs these Debian packages. Install them with:" >&2
    echo "  sudo apt-get install -y $need" >&2
    exit 1
  fi
fi

if [ "$mode" = run ] && no_display; then
  echo "No display found (DISPLAY is not set). Run it under a virtual display:" >&2
  echo "  xvfb-run -a -s '-screen 0 1600x1000x24' make run" >&2
  exit 1
fi
