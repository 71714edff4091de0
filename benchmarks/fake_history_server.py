"""A tiny local stand-in for the Letta REST API serving one agent with a long history.

    python -m benchmarks.fake_history_server --messages 10000 --images 200

stdlib http.server on 127.0.0.1 (a free port, printed as `port N` on stdout). Serves
`GET /v1/agents/` (the key check), `GET /v1/agents/{id}`, and
`GET /v1/agents/{id}/messages?limit=&order=desc&before=` paged with a `before` cursor the way the
real 0.16.8 server does (the newest `limit` messages before the cursor, oldest first).
`images` of the user messages carry an inline base64 image (screenshots and photos as the app
would have sent them: 1568 px long edge). Anything else: `[]` or 404.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import sys
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

AGENT_ID = "agent-bench-history"
AGENT = {"id": AGENT_ID, "name": "Long history", "model": "openai/gpt-4o-mini"}


def make_images(quick: bool) -> list[str]:
    """Base64 images as a typical client stores them: 1568 px long edge, true-colour PNG for
    screenshots, JPEG q85 for photos (plain Pillow, independent of this app's pipeline)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from PIL import Image

    from tests.unit.image_corpus import photo, screenshot

    out = []
    sizes = (
        [((640, 360), (600, 450))]
        if quick
        else [((5120, 2880), (4000, 3000)), ((2880, 1800), (3000, 2000))]
    )
    for shot_size, photo_size in sizes:
        for im, fmt in ((screenshot(shot_size), "PNG"), (photo(photo_size), "JPEG")):
            scale = min(1.0, 1568 / max(im.size))
            im = im.resize(
                (round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS
            )
            buf = io.BytesIO()
            im.save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
            out.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    return out


def make_history(n: int, n_images: int, images: list[str]) -> list[dict]:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    every = max(1, n // max(1, n_images))
    msgs = []
    img_i = 0
    for i in range(n):
        date = (start + timedelta(seconds=30 * i)).isoformat().replace("+00:00", "Z")
        mid = f"message-{i:06d}"
        if i % 2 == 0:
            content: list[dict] = [
                {
                    "type": "text",
                    "text": f"Question {i}: what about item {i}? "
                    "Please look at the details and tell me what you see.",
                }
            ]
            if img_i < n_images and i % every == 0:
                data = images[img_i % len(images)]
                media = "image/png" if data.startswith("iVBOR") else "image/jpeg"
                content.append(
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": media, "data": data},
                    }
                )
                img_i += 1
            msgs.append(
                {
                    "id": mid,
                    "message_type": "user_message",
                    "date": date,
                    "otid": f"otid-{i}",
                    "content": content,
                }
            )
        else:
            text = (
                f"Answer {i}: here is **what I see** in item {i - 1}.\n\n"
                "- the first point, with `code`\n- the second point\n\n"
                + "A longer paragraph of the reply follows here, with enough words to wrap "
                "over a couple of lines in a normal window width. " * 2
            )
            msgs.append(
                {"id": mid, "message_type": "assistant_message", "date": date, "content": text}
            )
    return msgs


def make_handler(history: list[dict]):
    index = {m["id"]: i for i, m in enumerate(history)}
    encoded_cache: dict[tuple[int, int], bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            q = {k: v[-1] for k, v in parse_qs(url.query).items()}
            parts = url.path.strip("/").split("/")
            if parts == ["v1", "agents"]:
                return self._send(200, json.dumps([AGENT]).encode())
            if parts[:3] == ["v1", "agents", AGENT_ID]:
                if len(parts) == 3:
                    return self._send(200, json.dumps(AGENT).encode())
                if parts[3:] == ["messages"]:
                    limit = int(q.get("limit", 100))
                    end = index.get(q["before"], 0) if q.get("before") else len(history)
                    start = max(0, end - limit)
                    key = (start, end)
                    if key not in encoded_cache:
                        encoded_cache[key] = json.dumps(history[start:end]).encode()
                    return self._send(200, encoded_cache[key])
            if parts[:2] == ["v1", "models"]:
                return self._send(200, b"[]")
            return self._send(404, b'{"detail": "NOT_FOUND"}')

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="tiny images")
    args = parser.parse_args()
    history = make_history(args.messages, args.images, make_images(args.quick))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(history))
    print(f"port {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
