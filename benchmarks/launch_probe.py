"""Start a window and report when its first frame is painted (the launch benchmark's child).

    python benchmarks/launch_probe.py bare|widgets|app

Every mode runs the same prelude (this file, same interpreter, offscreen): `bare` shows a plain
QMainWindow (the issue's baseline; it paints no text at all), `widgets` shows the same kinds of
Qt widgets as the app's first frame — menu bar, a header with a tool button and labels, a list
view, a text box with placeholder text, two buttons — and no app code (what Qt alone needs to
draw such a window: fonts, styles, text), and `app` runs `desktop.app.main()` as `letta-desktop`
would. Each QMainWindow gets an event filter as it is shown (every mode calls `show()`), and
its first Paint — a frame paints the window before its children — prints "shown <time.time()>"
(the first frame is being drawn; work the app defers until after its first frame is not counted,
for either side); the process exits right after. The parent measures spawn → that timestamp.

Only the window is watched, never the whole application: with an application-wide filter PySide
hands every event's receiver to Python, and a receiver of a class it does not wrap (a list
view's built-in empty model, a scroll area's viewport) makes it create the Python types of
whole Qt modules — ~170 enums, ~26 ms on the 2-core machine — which a real start never pays
(measured: the `widgets` window 1.35× bare with an application-wide filter, 1.15× without).
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _install_probe():
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    def done() -> None:
        os._exit(0)

    class Probe(QObject):
        seen = False

        def eventFilter(self, watched, event):
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                sys.stdout.write(f"shown {time.time():.6f}\n")
                sys.stdout.flush()
                QTimer.singleShot(0, done)
            return False

    app = QApplication.instance() or QApplication([sys.argv[0]])
    probe = Probe(app)
    show = QMainWindow.show

    def show_watched(window: QMainWindow) -> None:
        window.installEventFilter(probe)  # the window's own events only: see the module doc
        show(window)

    QMainWindow.show = show_watched
    return app


def _widgets_window():
    from PySide6.QtWidgets import (
        QHBoxLayout,
        QLabel,
        QListView,
        QMainWindow,
        QPlainTextEdit,
        QPushButton,
        QToolButton,
        QVBoxLayout,
        QWidget,
    )

    window = QMainWindow()
    window.setWindowTitle("Letta Desktop")
    for title in ("&File", "&Edit", "&Help"):
        window.menuBar().addMenu(title)
    central = QWidget()
    column = QVBoxLayout(central)
    header = QHBoxLayout()
    agent = QToolButton()
    agent.setText("Choose an agent…")
    header.addWidget(agent)
    header.addWidget(QLabel("openai/gpt-4o-mini"))
    header.addStretch(1)
    header.addWidget(QLabel("api.letta.com"))
    column.addLayout(header)
    column.addWidget(QListView(), 1)
    row = QHBoxLayout()
    composer = QPlainTextEdit()
    composer.setPlaceholderText("Message — paste or drop images")
    row.addWidget(composer, 1)
    row.addWidget(QPushButton("Attach…"))
    row.addWidget(QPushButton("Send"))
    column.addLayout(row)
    window.setCentralWidget(central)
    window.resize(900, 760)
    return window


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "bare"
    app = _install_probe()
    if mode == "bare":
        from PySide6.QtWidgets import QMainWindow

        window = QMainWindow()
        window.resize(900, 760)
        window.show()
        return app.exec()
    if mode == "widgets":
        window = _widgets_window()
        window.show()
        return app.exec()
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    from desktop.app import main as app_main

    return app_main([])


if __name__ == "__main__":
    sys.exit(main())
