"""The first use of the official SDK: the GUI event loop's longest stall while the app connects.

A real MainWindow (offscreen) in a fresh interpreter starts with a server URL, a key and an
agent, exactly as after the first frame: the API client and the SDK (`letta_client`, ~0.4 s of
imports and pydantic models) load, the key is checked, the agent, its conversations and its
history are read, and one message is sent and its streamed reply shown — against an in-memory
server (httpx.MockTransport), so only our side is measured. A 5 ms timer records the longest gap
of the event loop (tests/stall.py). The baseline, in the same process: the same connect and send
again, with everything already imported.
"""

from __future__ import annotations

import sys

from benchmarks.common import isolate_app_dirs, median, module_main, row, spin_until


def _connect_and_send(window, fake, agent_id: str, text: str) -> float:
    from tests.stall import StallMeter

    meter = StallMeter().start()
    window.start("https://letta.bench.test", fake.key, agent_id)
    spin_until(
        lambda: (
            window.session is not None
            and window.session.agent is not None
            and window.session._history_task is None
        ),
        what="agent loaded",
    )

    def sent() -> bool:
        # The agent's draft is restored right after it loads: type (again) until it goes out.
        if not fake.posts and not window.session.busy:
            window.composer.set_text(text)
            window.send()
        return bool(fake.posts) and not window.session.busy

    spin_until(sent, what="reply streamed")
    return meter.stop()


def run(quick: bool) -> list[dict]:
    isolate_app_dirs()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    from desktop.core.secrets import SecretStore
    from desktop.settings import Settings
    from desktop.ui.window.main_window import MainWindow
    from desktop.workers import Workers
    from tests.fake_letta import FakeLetta

    fake = FakeLetta()
    agent = fake.add_agent("Bench")
    workers = Workers()
    window = MainWindow(workers, Settings(), SecretStore(use_keyring=False), fake.factory)
    window.resize(900, 760)
    window.show()
    spin_until(lambda: window.isVisible())
    assert "letta_client" not in sys.modules, "the SDK must not load before the first connect"
    first = _connect_and_send(window, fake, agent["id"], "first")
    again = []
    for i in range(1 if quick else 5):
        fake.posts.clear()
        again.append(_connect_and_send(window, fake, agent["id"], f"again {i}"))
    window.close()
    workers.shutdown()
    del app
    return [
        row(
            "sdk_first_use",
            "first connect + send through the SDK (imports it): max GUI stall",
            first,
            "ms",
            baseline=median(again),
            budget="≤ 30 ms",
            limit=30.0,
            runs=1,
            samples=[first],
            note="baseline: the same connect + send with everything imported; samples "
            + ", ".join(f"{a:.0f}" for a in again)
            + " ms",
        )
    ]


if __name__ == "__main__":
    sys.exit(module_main(run, __doc__))
