"""The app's services and its main window, built from the command line and the environment.

Shared by the app (desktop/app.py), the self-test and the tests; it never shows anything.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.core.letta import LettaClient
    from desktop.core.secrets import SecretStore
    from desktop.ui.connection.connection_flow import ClientFactory
    from desktop.ui.window.main_window import MainWindow


def tls_verify() -> bool | str:
    """TLS verification is always on; LETTA_CA_BUNDLE names a custom CA bundle (a PEM file, for
    a company proxy or a self-signed server). A missing file is reported and ignored — it never
    turns verification off."""
    bundle = os.environ.get("LETTA_CA_BUNDLE", "").strip()
    if not bundle:
        return True
    path = os.path.abspath(os.path.expanduser(bundle))
    if not os.path.isfile(path):
        logging.getLogger(__name__).warning(
            "LETTA_CA_BUNDLE=%s is not a file; using the system's CA certificates", bundle
        )
        return True
    return path


def create_window(
    args: argparse.Namespace,
    *,
    use_keyring: bool = True,
    secrets: SecretStore | None = None,
    client_factory: ClientFactory | None = None,
    complete: bool = True,
) -> tuple[MainWindow, str | None, str | None]:
    """Build services and the main window (no event loop). Used by main() and by tests (which
    may bring a `client_factory` with their own timeouts, or `secrets` backed by a keyring of
    their own). With `complete=False` only what the first frame shows is built; the caller
    calls `window.complete()` after it."""
    from desktop.core.redact import register_secret
    from desktop.core.secrets import SecretStore
    from desktop.settings import Settings
    from desktop.ui.window.main_window import MainWindow
    from desktop.workers import Workers

    verify = tls_verify()

    def make_client(base_url: str, api_key: str | None) -> LettaClient:
        # httpx loads with the first client (after the first frame), not at start-up.
        from desktop.core.letta import LettaClient

        register_secret(api_key)
        if client_factory is not None:
            return client_factory(base_url, api_key)
        return LettaClient(base_url, api_key, verify=verify)

    env_key = os.environ.get("LETTA_API_KEY") or None
    register_secret(env_key)
    base_url = args.base_url or os.environ.get("LETTA_BASE_URL") or None
    workers = Workers()
    window = MainWindow(
        workers,
        Settings(),
        secrets or SecretStore(use_keyring=use_keyring),
        make_client,
        complete=False,
    )
    if complete:
        finish_window(window)
    files = getattr(args, "files", None)
    if files:  # `letta-desktop a.png b.jpg`: pending attachments, prepared on workers
        window.add_files([os.path.abspath(f) for f in files])
    return window, base_url, env_key


def finish_window(window: MainWindow) -> None:
    """Build what the first frame does not show: the window's other features, and the SVG
    rasteriser they use (Qt, in a capped child process)."""
    from desktop.core.images import set_svg_rasterizer
    from desktop.ui.imaging.svg_process import rasterize_svg

    set_svg_rasterizer(rasterize_svg)
    window.complete()
