#!/usr/bin/env bash
# THE one command that runs every test, on a fresh Debian machine (root, no display) or locally:
#
#     bash tests/run_all.sh [extra pytest args]      (CI: bash .ci/run)
#
# 1. installs the system packages it needs (apt, only when missing),
# 2. creates/refreshes the app venv .venv (pip install -e '.[test]', skipped when pyproject.toml
#    is unchanged),
# 3. installs the real Letta server into its cache (tests/peers/install_server.sh; skip with
#    LETTA_SKIP_SERVER_INSTALL=1),
# 4. runs ruff (a lint failure fails the run),
# 5. creates a loopback-only network namespace (nothing the tests do can leave the machine),
# 6. inside it: a private D-Bus session with an unlocked gnome-keyring, a private HOME/XDG tree,
#    Xvfb on a free display,
# 7. runs pytest twice: `-m "not x11"` with QT_QPA_PLATFORM=offscreen, then `-m x11` with
#    QT_QPA_PLATFORM=xcb under Xvfb (no x11 tests collected counts as success) — the Letta server
#    runs with Redis (Debian's redis-server, started by tests/peers/letta_server.py) —, then a
#    third time: the e2e tests that send and stream chat messages against a stack WITHOUT Redis
#    (LETTA_TEST_NO_REDIS=1: no conversation locks, no background streams), proving the client's
#    fallback (skip with LETTA_SKIP_NO_REDIS=1),
# 8. packaging (build/ci_package.sh, outside the namespace: apt may need the network): the
#    PyInstaller bundle and its --self-test, the .deb, dpkg -i, the installed app's --self-test,
#    dpkg -r. Skip with LETTA_SKIP_PACKAGING=1 for quick local runs.
# Everything it starts, it stops by PID; the namespace is deleted on exit.
#
# Env: LETTA_SKIP_SERVER_INSTALL=1, LETTA_TEST_CACHE=DIR (server cache),
#      LETTA_NO_NETNS=1 (run without the namespace when it cannot be created — not isolated!),
#      LETTA_SKIP_NO_REDIS=1 (no third, Redis-less e2e run),
#      LETTA_SKIP_PACKAGING=1 (no bundle/.deb build and install).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
self="$repo/tests/run_all.sh"
say() { echo "[run_all] $*" >&2; }
# The Redis-less e2e run: the tests that send and stream chat messages through the real window
# (send, history, Escape-cancel; conversations and approvals; the faults that retry, cut or stall
# a send and then check the server stored the message exactly once; today's API: background
# fallback, parallel approvals, Cloud refusals), and the raw-HTTP pins of what the server does
# without Redis (test_server_redis). Their `redis`-marked tests skip, `no_redis` ones run.
no_redis_selection="test_server_redis or test_app_chat or test_conversations_approvals"
no_redis_selection+=" or test_letta_today or retry_after_is_honoured"
no_redis_selection+=" or refused_connection_is_retried or broken_request_fails"
no_redis_selection+=" or stall_before_headers or broken_stream_keeps or in_stream_error"

# ---------------------------------------------------------------------------------------------
# Phase 3 (inside netns + D-Bus session): keyring, then the three pytest runs.
# ---------------------------------------------------------------------------------------------
if [[ "${_RUN_ALL_PHASE:-}" == session ]]; then
  # Start and unlock the Secret Service on this private session bus (the daemon exits with it).
  echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # (QT_QPA_PLATFORM is set per run; tests/conftest.py defaults it to offscreen.)
  rc1=0
  rc2=0
  rc3=skipped
  QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -m "not x11" "$@" || rc1=$?
  QT_QPA_PLATFORM=xcb .venv/bin/python -m pytest -m x11 "$@" || rc2=$?
  # The e2e tests that send and stream chat messages, once more against a server without Redis
  # (a new session stack). ~2 minutes: the stack start plus these tests.
  if [[ "${LETTA_SKIP_NO_REDIS:-0}" != 1 ]]; then
    rc3=0
    no_redis_start=$(date +%s)
    say "pytest e2e without Redis (LETTA_TEST_NO_REDIS=1)"
    LETTA_TEST_NO_REDIS=1 QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest tests/e2e \
      -m "e2e and not x11" -k "$no_redis_selection" "$@" || rc3=$?
    if [[ $rc3 == 5 && $# -gt 0 ]]; then rc3=0; fi
    echo "$(( $(date +%s) - no_redis_start ))" > "$_RUN_ALL_TMP/no-redis-seconds"
  fi
  # 5 = no tests collected: fine for the x11 run, and for the first run when args narrowed it.
  if [[ $rc2 == 5 ]]; then rc2=0; fi
  if [[ $rc1 == 5 && $# -gt 0 ]]; then rc1=0; fi
  echo "$rc1 $rc2 $rc3" > "$_RUN_ALL_TMP/pytest-rc"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Phase 2 (inside the netns): private dirs, Xvfb, D-Bus session.
# ---------------------------------------------------------------------------------------------
if [[ "${_RUN_ALL_PHASE:-}" == netns ]]; then
  tmp=$_RUN_ALL_TMP
  export HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" XDG_CONFIG_HOME="$tmp/home/.config"
  export XDG_CACHE_HOME="$tmp/home/.cache" XDG_RUNTIME_DIR="$tmp/runtime"
  mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  export LETTA_E2E_REQUIRED=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
  unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS

  xvfb_pid=""
  stop_xvfb() {
    if [[ -n "$xvfb_pid" ]] && kill -0 "$xvfb_pid" 2>/dev/null; then
      kill -TERM "$xvfb_pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$xvfb_pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$xvfb_pid" 2>/dev/null || true
      wait "$xvfb_pid" 2>/dev/null || true
    fi
  }
  trap stop_xvfb EXIT
  # -displayfd: Xvfb picks a free display number itself and writes it to fd 3.
  Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do
    [[ -s "$tmp/display" ]] && break
    kill -0 "$xvfb_pid" 2>/dev/null || { say "Xvfb died:"; cat "$tmp/xvfb.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -s "$tmp/display" ]] || { say "Xvfb did not start"; cat "$tmp/xvfb.log" >&2; exit 1; }
  export DISPLAY=":$(tr -d '[:space:]' < "$tmp/display")"
  say "Xvfb pid $xvfb_pid on $DISPLAY"

  _RUN_ALL_PHASE=session dbus-run-session -- bash "$self" "$@" || true
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Phase 1 (the machine): packages, venvs, lint, namespace.
# ---------------------------------------------------------------------------------------------
start=$(date +%s)
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi

pkgs=(xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
      libxcb-shape0 libxkbcommon-x11-0 gnome-keyring dbus-daemon xclip imagemagick libgl1 libegl1
      libfontconfig1 fonts-dejavu-core iproute2 binutils file desktop-file-utils redis-server
      at-spi2-core tesseract-ocr)
python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# App venv, refreshed only when pyproject.toml changed.
hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
marker=.venv/.pyproject.sha256
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if [[ "$(cat "$marker" 2>/dev/null || true)" != "$hash" ]]; then
  say "installing the app into .venv (pip install -e '.[test]')"
  pip_log=$(mktemp)
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e '.[test]'; } >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    rm -f "$pip_log"
    say "pip install -e '.[test]' failed"
    exit 1
  fi
  rm -f "$pip_log"
  echo "$hash" > "$marker"
fi

# The real Letta server (cached).
if [[ "${LETTA_SKIP_SERVER_INSTALL:-0}" != 1 ]]; then
  bash tests/peers/install_server.sh
fi
# Pin the cache path now: the tests run with a private HOME.
export LETTA_TEST_CACHE="${LETTA_TEST_CACHE:-$HOME/.cache/letta-desktop-tests}"

# Lint (a failure fails the run, after the tests have run).
lint_dirs=()
for d in desktop tests benchmarks build; do [[ -d $d ]] && lint_dirs+=("$d"); done
lint_rc=0
.venv/bin/ruff check "${lint_dirs[@]}" || lint_rc=$?
.venv/bin/ruff format --check "${lint_dirs[@]}" || lint_rc=$?

tmp=$(mktemp -d "${TMPDIR:-/tmp}/letta-run-all.XXXXXX")
chmod 755 "$tmp"
export _RUN_ALL_TMP="$tmp"
ns="letta-tests-$$"
ns_made=0
cleanup() {
  if [[ $ns_made == 1 ]]; then
    # Anything still running in our namespace was started by this run: stop it by PID.
    pids=$($sudo ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n "$pids" ]]; then
      say "stopping leftover processes in $ns: $pids"
      # shellcheck disable=SC2086
      $sudo kill -TERM $pids 2>/dev/null || true
      sleep 2
      pids=$($sudo ip netns pids "$ns" 2>/dev/null || true)
      # shellcheck disable=SC2086
      [[ -z "$pids" ]] || $sudo kill -KILL $pids 2>/dev/null || true
    fi
    $sudo ip netns delete "$ns" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if $sudo ip netns add "$ns" 2>"$tmp/netns.err"; then
  ns_made=1
  $sudo ip netns exec "$ns" ip link set lo up
  say "network namespace $ns (loopback only)"
  runner=($sudo ip netns exec "$ns" env)
elif [[ "${LETTA_NO_NETNS:-0}" == 1 ]]; then
  say "WARNING: no network namespace ($(cat "$tmp/netns.err")); LETTA_NO_NETNS=1, running unisolated"
  runner=(env)
else
  say "cannot create a network namespace: $(cat "$tmp/netns.err")"
  say "(run as root, or set LETTA_NO_NETNS=1 to run without isolation)"
  exit 1
fi

"${runner[@]}" _RUN_ALL_PHASE=netns _RUN_ALL_TMP="$tmp" LETTA_TEST_CACHE="$LETTA_TEST_CACHE" \
  bash "$self" "$@" || true

read -r rc1 rc2 rc3 < "$tmp/pytest-rc" 2>/dev/null || { rc1=99; rc2=99; rc3=99; }
no_redis_s=$(cat "$tmp/no-redis-seconds" 2>/dev/null || true)
word() {
  if [[ $1 == 0 ]]; then echo ok; elif [[ $1 == skipped ]]; then echo skipped;
  else echo "FAILED($1)"; fi
}

# ---- Packaging: after the tests, out here (dpkg/apt need root and maybe the network) ---------
pkg_rc=0
pkg_word=skipped
if [[ "${LETTA_SKIP_PACKAGING:-0}" != 1 ]]; then
  pkg_start=$(date +%s)
  bash build/ci_package.sh || pkg_rc=$?
  pkg_word="$(word "$pkg_rc") $(( $(date +%s) - pkg_start ))s"
fi
# ---- end of packaging -----------------------------------------------------------------------

elapsed=$(( $(date +%s) - start ))
no_redis_word="$(word "$rc3")${no_redis_s:+ ${no_redis_s}s}"
echo "run_all: lint $(word "$lint_rc"), pytest not-x11 $(word "$rc1"), pytest x11 $(word "$rc2"), pytest no-redis ${no_redis_word}, packaging ${pkg_word}, ${elapsed}s"
if [[ $lint_rc != 0 || $rc1 != 0 || $rc2 != 0 || $pkg_rc != 0 ]]; then exit 1; fi
if [[ $rc3 != 0 && $rc3 != skipped ]]; then exit 1; fi
exit 0
