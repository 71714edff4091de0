"""`letta-desktop --self-test` (desktop/selftest.py) and the icon build (build/make_icons.py)."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import keyring
import keyring.backend
from PIL import Image

from desktop import selftest

ROOT = Path(__file__).resolve().parents[2]


def test_run_checks_all_pass_here(qapp):
    results = selftest.run_checks()
    names = [r.name for r in results]
    assert names == [name for name, _check in selftest.CHECKS]
    failed = [r.line() for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    by_name = {r.name: r for r in results}
    assert by_name["platform plugin"].detail == qapp.platformName()
    assert "HEIF" not in by_name["pillow codecs"].detail  # HEIC has its own line
    assert "SecretService" in by_name["keyring"].detail
    assert "python in xcode and github-dark" in by_name["code colours (pygments)"].detail


def test_lines_are_ok_or_fail_with_the_name():
    assert selftest.CheckResult("x", True, "y").line() == "ok   x: y"
    assert selftest.CheckResult("x", False, "y").line() == "FAIL x: y"


def test_a_failing_check_is_reported_not_raised(qapp, monkeypatch):
    def boom():
        raise RuntimeError("no codec")

    monkeypatch.setattr(selftest, "CHECKS", (("broken", boom),))
    [result] = selftest.run_checks()
    assert not result.ok and "RuntimeError: no codec" in result.detail
    assert selftest.main() == 1


def test_the_code_colour_check_fails_when_nothing_is_coloured(monkeypatch):
    from desktop.ui.transcript import code_spans

    monkeypatch.setattr(code_spans, "lex", lambda *_args: code_spans.PLAIN)
    ok, detail = selftest._check_code_colors()
    assert not ok and detail == "Pygments did not colour a Python snippet in xcode"


def test_keyring_check_resolves_the_backend_without_reading_secrets(qapp, monkeypatch):
    class Tripwire(keyring.backend.KeyringBackend):
        priority = 10
        name = "tripwire"

        def get_password(self, service, username):
            raise AssertionError("the self-test read a secret")

        def set_password(self, service, username, password):
            raise AssertionError("the self-test wrote a secret")

        def delete_password(self, service, username):
            raise AssertionError("the self-test deleted a secret")

    monkeypatch.setattr(keyring, "get_keyring", lambda: Tripwire())
    ok, detail = selftest._check_keyring()
    assert ok and "active: tripwire" in detail


def test_no_display_means_offscreen(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    selftest.prepare_environment()
    assert __import__("os").environ["QT_QPA_PLATFORM"] == "offscreen"
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    selftest.prepare_environment()
    assert __import__("os").environ["QT_QPA_PLATFORM"] == "xcb"


def test_make_icons_renders_every_size_from_the_svg(qapp, tmp_path):
    make_icons = runpy.run_path(str(ROOT / "build" / "make_icons.py"))
    made = make_icons["make_icons"](tmp_path)
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = tmp_path / "hicolor" / f"{size}x{size}" / "apps" / "letta-desktop.png"
        with Image.open(png) as image:
            assert image.size == (size, size) and image.mode == "RGBA"
            assert image.getpixel((size // 2, size // 2))[3] == 255  # drawn, not empty
            assert image.getpixel((0, 0))[3] == 0  # transparent rounded corner
    with Image.open(made["ico"]) as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    data = made["icns"].read_bytes()
    assert data[:4] == b"icns"
    with Image.open(io.BytesIO(data)) as icns:
        assert icns.size == (1024, 1024)
