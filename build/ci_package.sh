#!/usr/bin/env bash
# The packaging check tests/run_all.sh runs after the pytest runs (skip: LETTA_SKIP_PACKAGING=1):
#
#   1. pip install PyInstaller into the app venv (.venv), when missing,
#   2. build the one-dir bundle from app.spec (build/out/dist/letta-desktop),
#   3. run the bundle's `--self-test` offscreen,
#   4. build the .deb (build/linux/build_deb.sh; it checks every linked library against Depends),
#   5. install it with dpkg -i (apt-get install -f for missing Depends: needs the network, so this
#      runs outside the tests' loopback namespace), run `/usr/bin/letta-desktop --self-test`,
#   6. remove the package again (dpkg -r), also on failure.
#
# Usable alone: `bash build/ci_package.sh`. Root (or sudo) for dpkg. Serialised with flock, so two
# runs on one machine do not fight over build/out or the dpkg lock. Prints the time of each step.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
say() { echo "[package] $*" >&2; }
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
py=.venv/bin/python
[[ -x $py ]] || { say "no app venv at .venv (run tests/run_all.sh once)"; exit 1; }

exec 9>"${TMPDIR:-/tmp}/letta-desktop-packaging.lock"
flock 9

t0=$(date +%s)
step_start=$t0
lap() {
  local now
  now=$(date +%s)
  say "$1 ($((now - step_start)) s)"
  step_start=$now
}

if ! $py -c 'import PyInstaller' 2>/dev/null; then
  $py -m pip install -q 'pyinstaller>=6.10'
fi
lap "PyInstaller $($py -m PyInstaller --version)"

$py -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath build/out/dist --workpath build/out/work app.spec
bundle=build/out/dist/letta-desktop
lap "bundle built: $(du -sh "$bundle" | cut -f1) in $bundle"

# A private config dir: the self-test reads settings (never writes), but keep the machine's out.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/letta-package.XXXXXX")
installed=0
finish() {
  if [[ $installed == 1 ]]; then
    $sudo dpkg -r letta-desktop >/dev/null && say "removed the package (dpkg -r letta-desktop)"
  fi
  rm -rf "$scratch"
}
trap finish EXIT
selftest() {
  env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    LETTA_DESKTOP_CONFIG_DIR="$scratch/config" XDG_RUNTIME_DIR="$scratch" "$@" --self-test
}

selftest "$bundle/letta-desktop"
lap "bundle self-test passed"

deb=$(bash build/linux/build_deb.sh "$bundle" | tail -1)
lap "deb built: $(du -h "$deb" | cut -f1) $deb"

installed=1
if ! $sudo env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >"$scratch/dpkg.log" 2>&1; then
  say "dpkg -i left Depends unmet; apt-get install -f"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null
fi
dpkg-query -W -f='${Status}' letta-desktop | grep -q 'install ok installed' ||
  { cat "$scratch/dpkg.log" >&2; say "the package did not install"; exit 1; }
[[ -f /usr/share/applications/letta-desktop.desktop &&
   -f /usr/share/icons/hicolor/256x256/apps/letta-desktop.png ]] ||
  { say "desktop entry or icons missing after install"; exit 1; }
lap "installed with dpkg -i"

selftest /usr/bin/letta-desktop
lap "installed /usr/bin/letta-desktop self-test passed"
say "packaging ok in $(( $(date +%s) - t0 )) s"
