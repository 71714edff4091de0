#!/usr/bin/env bash
# Build the Debian package from the PyInstaller bundle:
#
#     .venv/bin/pyinstaller --noconfirm --distpath build/out/dist --workpath build/out/work app.spec
#     bash build/linux/build_deb.sh [BUNDLE_DIR]       → build/out/letta-desktop_<version>_<arch>.deb
#
# Layout: the bundle in /opt/letta-desktop, a launcher /usr/bin/letta-desktop, the desktop entry
# in /usr/share/applications, hicolor icons (made by build/make_icons.py) in
# /usr/share/icons/hicolor/<size>/apps. dpkg's file triggers (desktop-file-utils, the icon
# cache) refresh menus and icons; no maintainer scripts.
#
# The version is what the bundle itself reports (`letta-desktop --version`, i.e. desktop.__version__).
# Depends lists the system libraries the bundle deliberately does not carry (app.spec leaves the
# GL/X11/xcb/wayland/fontconfig/GLib/D-Bus stack to the system); before building, every library
# a bundled ELF file links (objdump NEEDED) is checked: it must be in the bundle or come from a
# package in Depends — a new Qt or Pillow that links something else fails the build here.
# Env: DEB_COMPRESS=xz|zstd|gzip|none (default xz), DEB_OUT=DIR (default build/out).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle=$(cd "${1:-$root/build/out/dist/letta-desktop}" && pwd)
out=${DEB_OUT:-$root/build/out}
say() { echo "[build_deb] $*" >&2; }

[[ -x "$bundle/letta-desktop" ]] || { say "no bundle at $bundle (build app.spec first)"; exit 1; }
version=$("$bundle/letta-desktop" --version | awk '{print $NF}')
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { say "odd version '$version'"; exit 1; }
arch=$(dpkg --print-architecture)

# Alternatives cover Debian 12 / Ubuntu 22.04 names and the t64 renames (Debian 13, Ubuntu 24.04).
depends=(
  "libc6" "libstdc++6" "libgcc-s1" "libglib2.0-0t64 | libglib2.0-0" "libdbus-1-3" "libzstd1"
  "libgl1" "libegl1" "libfontconfig1" "libfreetype6"
  "libx11-6" "libx11-xcb1" "libxcb1" "libxkbcommon0" "libxkbcommon-x11-0"
  "libxcb-cursor0" "libxcb-icccm4" "libxcb-keysyms1" "libxcb-image0" "libxcb-render-util0"
  "libxcb-shape0" "libxcb-randr0" "libxcb-render0" "libxcb-shm0" "libxcb-sync1" "libxcb-util1"
  "libxcb-xfixes0" "libxcb-xkb1" "libxcb-glx0"
  "libwayland-client0" "libwayland-cursor0" "libwayland-egl1"
)
# Loaded only when present: the GTK platform theme (native dialogs on GNOME); a Secret Service
# for the keyring (without one the app keeps the key in memory for the session).
recommends="libgtk-3-0t64 | libgtk-3-0, gnome-keyring | kwalletmanager | keepassxc"
optional_files='/platformthemes/libqgtk3\.so$'

# --- the dependency check -------------------------------------------------------------------
pkg_of() {  # soname → Debian package (via the dynamic linker cache and dpkg)
  local so=$1 path candidate
  case $so in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libmvec.so.*|ld-linux*) echo libc6; return;;
  esac
  path=$(ldconfig -p | awk -v s="$so" '$1 == s {print $NF; exit}')
  [[ -n "$path" ]] || return 0
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}" \
                   "/usr$(readlink -f "$path")" "$(readlink -f "$path" | sed 's|^/usr||')"; do
    dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
}
declare -A have=()
while IFS= read -r name; do have[$name]=1; done < <(find "$bundle" -name '*.so*' -printf '%f\n')
depends_names=" $(printf '%s\n' "${depends[@]}" | tr '|' '\n' | tr -d ' ' | tr '\n' ' ') "
problems=0
declare -A checked=()
while IFS= read -r -d '' file; do
  [[ "$file" =~ $optional_files ]] && continue
  file -b "$file" | grep -q '^ELF' || continue
  while read -r so; do
    [[ -n "${have[$so]:-}" || -n "${checked[$so]:-}" ]] && continue
    checked[$so]=1
    pkg=$(pkg_of "$so")
    if [[ -z "$pkg" ]]; then
      say "MISSING: ${file#"$bundle"/} needs $so, which is neither bundled nor installed here"
      problems=$((problems + 1))
    elif [[ "$depends_names" != *" ${pkg%%:*} "* && "$depends_names" != *" ${pkg%%:*}t64 "* ]]; then
      say "UNDECLARED: ${file#"$bundle"/} needs $so from package $pkg, not in Depends"
      problems=$((problems + 1))
    fi
  done < <(objdump -p "$file" 2>/dev/null | awk '$1 == "NEEDED" {print $2}')
done < <(find "$bundle" -type f \( -name '*.so*' -o -name letta-desktop \) -print0)
if ((problems)); then say "$problems undeclared/missing libraries: fix Depends or app.spec"; exit 1; fi
say "dependency check: every linked library is bundled or in Depends (${#checked[@]} sonames)"

# --- the package tree -----------------------------------------------------------------------
icons="$root/build/out/icons"
if [[ ! -f "$icons/hicolor/512x512/apps/letta-desktop.png" ]]; then
  "${PYTHON:-$root/.venv/bin/python}" "$root/build/make_icons.py" --out "$icons" >/dev/null
fi
stage="$out/deb/letta-desktop_${version}_${arch}"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/doc/letta-desktop"
cp -a "$bundle" "$stage/opt/letta-desktop"
cat > "$stage/usr/bin/letta-desktop" <<'LAUNCHER'
#!/bin/sh
exec /opt/letta-desktop/letta-desktop "$@"
LAUNCHER
chmod 755 "$stage/usr/bin/letta-desktop"
install -m 644 "$here/letta-desktop.desktop" "$stage/usr/share/applications/letta-desktop.desktop"
for dir in "$icons"/hicolor/*/apps; do
  size=$(basename "$(dirname "$dir")")
  mkdir -p "$stage/usr/share/icons/hicolor/$size/apps"
  install -m 644 "$dir"/letta-desktop.* "$stage/usr/share/icons/hicolor/$size/apps/"
done
cat > "$stage/usr/share/doc/letta-desktop/copyright" <<'COPYRIGHT'
Letta Desktop — Apache-2.0. The bundle in /opt/letta-desktop also carries Python, Qt for Python
(LGPL-3.0), Pillow, pillow-heif (libheif LGPL-3.0, x265 GPL-2.0), httpx, keyring and certifi
under their own licenses.
COPYRIGHT
chmod -R u+rwX,go+rX,go-w "$stage"

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
depends_line=$(printf '%s, ' "${depends[@]}"); depends_line=${depends_line%, }
cat > "$stage/DEBIAN/control" <<CONTROL
Package: letta-desktop
Version: $version
Architecture: $arch
Maintainer: Letta Desktop maintainers <letta-desktop@users.noreply.github.com>
Installed-Size: $installed_size
Depends: $depends_line
Recommends: $recommends
Section: net
Priority: optional
Homepage: https://docs.letta.com
Description: desktop client that lets Letta agents see
 Chat with your Letta agents (Letta Cloud or a self-hosted server), paste
 screenshots and drop image files; images reach the agent's vision model
 resized, stripped of metadata and checked against the model's limits.
 The API key is kept in the OS keyring.
CONTROL

mkdir -p "$out"
deb="$out/letta-desktop_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$stage" "$deb" >/dev/null
rm -rf "$stage"
say "built $deb ($(du -h "$deb" | cut -f1), installed $((installed_size / 1024)) MiB)"
echo "$deb"
