"""app._until_first_frame: what start-up skips comes back after the first frame."""

from __future__ import annotations

import gc
import sys

import PySide6.QtCore  # noqa: F401  (loads shibokensupport.feature)

from desktop.app import _until_first_frame


def test_the_feature_scan_and_the_collector_come_back_after_the_first_frame():
    feature = sys.modules["shibokensupport.feature"]
    scan = feature._mod_uses_pyside
    was_enabled = gc.isenabled()
    gc.disable()  # as main() does before PySide loads
    try:
        restore = _until_first_frame()
        assert feature._mod_uses_pyside is not scan
        assert feature._mod_uses_pyside(sys.modules[__name__]) is False
        restore()
        restore()  # twice is harmless (after the first frame, and on the way out)
        assert feature._mod_uses_pyside is scan
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        if not was_enabled:
            gc.disable()
