"""Run every benchmark, print one table, write JSON.

    python -m benchmarks [--quick] [--json OUT] [--only ID,...] [--no-server]

Each benchmark module runs in its own process (a fresh interpreter, its own QApplication, its
own RSS) and gives rows: a value, the baseline measured in the same run where there is one, the
ratio, the budget and whether it was met. Results go to benchmarks/results/latest.json (gitignored)
and to --json OUT.

--quick is the CI smoke test: tiny inputs, one repetition, no real Letta server. Its numbers
are not measurements; it only proves that every benchmark still runs and reports its rows.

The real-server row (bench_send) needs the Letta test stack (tests/peers/install_server.sh) and
runs inside a loopback-only network namespace that this script creates and deletes (root + `ip`);
without them the row is reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

#: (module, the row ids it gives) in table order.
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("bench_launch", ["launch", "launch_floor"]),
    ("bench_paste", ["paste_thumb", "paste_ready", "paste_stall"]),
    ("bench_prepare", ["prepare_screenshot", "prepare_photo", "bytes_screenshot", "bytes_photo"]),
    ("bench_send", ["send_stall"]),
    ("bench_history", ["history_first_paint", "history_rss"]),
    ("bench_stream", ["stream"]),
    ("bench_code", ["code_stall"]),
    ("bench_sdk", ["sdk_first_use"]),
]
ALL_IDS = [rid for _, ids in BENCHMARKS for rid in ids]


def run_module(
    module: str, quick: bool, netns: str | None = None, timeout: float = 3600
) -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [sys.executable, "-m", "benchmarks.run", "--one", module, "--json", str(out)]
    if quick:
        cmd.append("--quick")
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    try:
        proc = subprocess.run(
            cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{module} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def skipped(module: str, reason: str) -> list[dict]:
    from benchmarks.common import row

    ids = dict(BENCHMARKS)[module]
    return [row(rid, rid, None, "", skipped=reason) for rid in ids]


def server_netns() -> tuple[str | None, str]:
    """A loopback-only network namespace for the real server, or (None, why not)."""
    sys.path.insert(0, str(ROOT))
    from tests.peers import letta_server

    if not letta_server.is_installed():
        return None, "the Letta test server is not installed (tests/peers/install_server.sh)"
    if os.geteuid() != 0 or not shutil.which("ip"):
        return None, "needs root and `ip` for a loopback-only network namespace"
    name = f"lettabench-{uuid.uuid4().hex[:8]}"
    for cmd in (
        ["ip", "netns", "add", name],
        ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
    ):
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)
            return None, f"could not create a network namespace: {res.stderr.strip()}"
    return name, ""


def fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "–"
    if unit == "B":
        return f"{v / 1000:,.0f} KB"
    return f"{v:,.1f} {unit}".strip() if abs(v) < 1000 else f"{v:,.0f} {unit}".strip()


def table(rows: list[dict], quick: bool) -> str:
    head = ["id", "what", "value", "baseline", "ratio", "budget", "met"]
    lines = []
    for r in rows:
        met = "skipped" if r.get("skipped") else {True: "yes", False: "NO", None: "–"}[r["met"]]
        lines.append(
            [
                r["id"],
                r["what"],
                fmt(r["value"], r["unit"]),
                fmt(r["baseline"], r["unit"]),
                "–" if r["ratio"] is None else f"{r['ratio']:.2f}×",
                r["budget"] or "(info)",
                met,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(head)]
    out = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    out += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    for r in rows:
        if r.get("skipped"):
            out.append(f"- {r['id']}: skipped: {r['skipped']}")
        elif r.get("note"):
            out.append(f"- {r['id']}: {r['note']}")
    if quick:
        out.append("(--quick: tiny inputs, one run — a smoke test, not a measurement)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks; print a table, write JSON.")
    parser.add_argument(
        "--quick", action="store_true", help="CI smoke: tiny inputs, one run, no real server"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", help="comma-separated modules or row ids (e.g. launch,stream)")
    parser.add_argument("--no-server", action="store_true", help="skip the real-server row")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one module in-process
    args = parser.parse_args(argv)
    if args.one:
        return _run_one(args.one, args.quick, args.json)

    wanted = set(args.only.split(",")) if args.only else None
    known = {m for m, _ in BENCHMARKS} | {m.removeprefix("bench_") for m, _ in BENCHMARKS}
    unknown = sorted((wanted or set()) - known - set(ALL_IDS))
    if unknown:
        parser.error(
            f"--only: unknown {', '.join(unknown)} (modules: {', '.join(sorted(known))};"
            f" rows: {', '.join(ALL_IDS)})"
        )
    started = time.time()
    rows: list[dict] = []
    for module, ids in BENCHMARKS:
        short = module.removeprefix("bench_")
        if wanted and module not in wanted and short not in wanted and not wanted & set(ids):
            continue
        print(f"… {module}", file=sys.stderr, flush=True)
        if module == "bench_send":
            if args.quick or args.no_server:
                rows += skipped(module, "--quick" if args.quick else "--no-server")
                continue
            netns, why = server_netns()
            if netns is None:
                rows += skipped(module, why)
                continue
            try:
                rows += run_module(module, args.quick, netns=netns)
            finally:
                subprocess.run(["ip", "netns", "delete", netns], capture_output=True)
            continue
        rows += run_module(module, args.quick)

    text = table(rows, args.quick)
    print(text)
    result = {
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (RESULTS / ("quick.json" if args.quick else "latest.json")).write_text(payload)
    (RESULTS / ("quick.md" if args.quick else "latest.md")).write_text(text + "\n")
    if args.json:
        args.json.write_text(payload)
    return 0


def _run_one(module: str, quick: bool, out: Path | None) -> int:
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = importlib.import_module(f"benchmarks.{module}").run(quick)
    if out:
        out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
