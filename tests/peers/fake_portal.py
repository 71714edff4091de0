"""A fake XDG Desktop Portal with only the Screenshot interface, for the portal-capture tests.

    python -m tests.peers.fake_portal BUS_ADDRESS OUT_DIR MODE [DELAY_SECONDS]

connects to the D-Bus at BUS_ADDRESS (a private `dbus-daemon`), owns
`org.freedesktop.portal.Desktop` and serves `/org/freedesktop/portal/desktop`:

- `org.freedesktop.portal.Screenshot.Screenshot(s parent_window, a{sv} options)` returns the
  request handle `/org/freedesktop/portal/desktop/request/<sender>/<handle_token>` (as the spec
  says) and then, per MODE, emits `org.freedesktop.portal.Request.Response(u, a{sv})` on it:
  `0` — success, `{"uri": file://OUT_DIR/Screenshot-N.png}` (a real 320×200 PNG it writes);
  `1` — cancelled by the user; `2` — failed; `never` — no Response at all.
- `org.freedesktop.DBus.Properties.Get("org.freedesktop.portal.Screenshot", "version")` → 2;
- `org.freedesktop.portal.Request.Close()` on a request path.

DELAY_SECONDS (default 0) holds every method reply back that long, like a portal still starting.

Every call is appended to OUT_DIR/calls.jsonl (method, path, arguments as JSON) so a test can
check what the client asked for. It prints `ready` once the name is owned and runs until killed
(SIGTERM) or until the bus goes away. It is written with jeepney (pure Python, explicit D-Bus
signatures) so the client under test (QtDBus) is checked against an independent implementation.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

SERVICE = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT = "org.freedesktop.portal.Screenshot"
REQUEST = "org.freedesktop.portal.Request"
PROPERTIES = "org.freedesktop.DBus.Properties"


def png(width: int = 320, height: int = 200) -> bytes:
    """A small RGB PNG (stdlib only): a blue field with a yellow top-left quarter."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            row += b"\xe0\xb0\x40" if (x < width // 2 and y < height // 2) else b"\x35\x60\x8f"
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def plain(value):
    """A message body as JSON-friendly values (a{sv} maps lose their variants' signatures)."""
    if isinstance(value, dict):
        return {
            k: plain(v[1] if isinstance(v, tuple) and len(v) == 2 else v) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    from jeepney import (
        DBusAddress,
        HeaderFields,
        MessageType,
        new_error,
        new_method_return,
        new_signal,
    )
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    address, out_dir, mode = argv[1], Path(argv[2]), argv[3]
    delay = float(argv[4]) if len(argv) > 4 else 0.0  # seconds before each method reply
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "calls.jsonl"
    conn = open_dbus_connection(bus=address)
    reply = conn.send_and_get_reply(message_bus.RequestName(SERVICE, 4))  # DO_NOT_QUEUE
    if reply.body[0] != 1:
        print(f"could not own {SERVICE}: {reply.body}", flush=True)
        return 1
    print("ready", flush=True)
    count = 0
    while True:
        try:
            msg = conn.receive()
        except (ConnectionError, OSError):
            return 0
        header = msg.header
        if header.message_type is not MessageType.method_call:
            continue
        fields = header.fields
        path = fields.get(HeaderFields.path, "")
        iface = fields.get(HeaderFields.interface, "")
        member = fields.get(HeaderFields.member, "")
        sender = fields.get(HeaderFields.sender, "")
        with log.open("a") as fh:
            fh.write(
                json.dumps({"method": f"{iface}.{member}", "path": path, "args": plain(msg.body)})
                + "\n"
            )
        if delay:
            time.sleep(delay)  # a portal that is slow to answer (starting up, busy)
        if path == PATH and iface == SCREENSHOT and member == "Screenshot":
            _parent, options = plain(msg.body)
            token = options.get("handle_token") or f"t{count}"
            handle = f"{PATH}/request/{sender[1:].replace('.', '_')}/{token}"
            conn.send(new_method_return(msg, "o", (handle,)))
            count += 1
            if mode == "never":
                continue
            code = int(mode)
            results: dict = {}
            if code == 0:
                shot = out_dir / f"Screenshot-{count}.png"
                shot.write_bytes(png())
                results = {"uri": ("s", shot.as_uri())}
            emitter = DBusAddress(handle, interface=REQUEST)
            conn.send(new_signal(emitter, "Response", "ua{sv}", (code, results)))
        elif path == PATH and iface == PROPERTIES and member == "Get":
            if tuple(msg.body) == (SCREENSHOT, "version"):
                conn.send(new_method_return(msg, "v", (("u", 2),)))
            else:
                conn.send(
                    new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s", ("no such",))
                )
        elif iface == REQUEST and member == "Close":
            conn.send(new_method_return(msg))
        else:
            conn.send(
                new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"{member}?",))
            )


# -- for the tests: a private bus and this portal as subprocesses, stopped by PID ------------------

ROOT = Path(__file__).resolve().parents[2]

# A session bus with no service directories: nothing on the machine (a real xdg-desktop-portal)
# can be D-Bus-activated on it, so "no portal" really means no portal.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    """The first line `proc` prints (without blocking past `timeout`)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def dbus_daemon() -> str | None:
    return shutil.which("dbus-daemon")


@dataclass
class PrivateBus:
    """`dbus-daemon --nofork` with BUS_CONFIG; `address` for QDBusConnection.connectToBus."""

    proc: subprocess.Popen
    address: str

    @classmethod
    def start(cls, workdir: Path) -> PrivateBus:
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "bus.conf"
        config.write_text(BUS_CONFIG.format(dir=workdir))
        daemon = dbus_daemon()
        assert daemon, "dbus-daemon is not installed (apt: dbus-daemon)"
        proc = subprocess.Popen(
            [daemon, f"--config-file={config}", "--print-address=1", "--nofork", "--nopidfile"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # "Failed to set fd limit" as non-root: harmless
            stdin=subprocess.DEVNULL,
        )
        address = _first_line(proc, 10.0)
        if not address.startswith("unix:"):
            _stop(proc)
            raise RuntimeError(f"dbus-daemon did not start (printed {address!r})")
        return cls(proc, address)

    def stop(self) -> None:
        _stop(self.proc)


@dataclass
class FakePortal:
    """This module run as a subprocess on `address`; `calls()` reads what it was asked."""

    proc: subprocess.Popen
    out_dir: Path

    @classmethod
    def start(cls, address: str, out_dir: Path, mode: str, delay: float = 0.0) -> FakePortal:
        out_dir.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.peers.fake_portal",
                address,
                str(out_dir),
                mode,
                f"{delay}",
            ],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        line = _first_line(proc, 20.0)
        if line != "ready":
            _stop(proc)
            raise RuntimeError(f"the fake portal did not start (printed {line!r})")
        return cls(proc, out_dir)

    def calls(self) -> list[dict]:
        log = self.out_dir / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        _stop(self.proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
