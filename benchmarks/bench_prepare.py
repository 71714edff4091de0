"""Benchmark prepare_image against a minimal Pillow script doing the same job.

    python benchmarks/bench_prepare.py [--quick] [--reps N] [--json OUT]
    (in the suite: python -m benchmarks, which calls `run(quick)`)

Inputs (generated, no downloads): a 5120×2880 screenshot PNG with small text, and a 12 MP
(4000×3000) photo JPEG. The baseline is what a short script would do: open → convert →
resize (LANCZOS) to a 1568 px long edge → save PNG (screenshot, Pillow's default compression) or
JPEG q85 (photo) → base64. prepare_image additionally sniffs, guards, handles orientation, colour
and metadata, and picks the format; it should stay within ~1.2× of the baseline.

The table shows median wall time per input, the ratio ours / baseline, and the bytes sent
(base64 length) relative to base64 of the original file (budget: ≤ 1/4).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from desktop.core.images import ImageLimits, prepare_image  # noqa: E402
from tests.unit.image_corpus import photo, screenshot  # noqa: E402

LONG_EDGE = ImageLimits().max_long_edge


def make_inputs(quick: bool = False) -> dict[str, bytes]:
    shot_size, photo_size = ((1280, 720), (1000, 750)) if quick else ((5120, 2880), (4000, 3000))
    shot = io.BytesIO()
    screenshot(shot_size).save(shot, "PNG")
    pic = io.BytesIO()
    photo(photo_size, seed=11).save(pic, "JPEG", quality=92)
    return {
        f"screenshot {shot_size[0]}×{shot_size[1]} PNG": shot.getvalue(),
        f"photo {photo_size[0]}×{photo_size[1]} JPEG": pic.getvalue(),
    }


def baseline(data: bytes) -> str:
    im = Image.open(io.BytesIO(data))
    fmt = "PNG" if im.format == "PNG" else "JPEG"
    im = im.convert("RGB")
    scale = LONG_EDGE / max(im.size)
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "PNG":
        im.save(out, "PNG")
    else:
        im.save(out, "JPEG", quality=85)
    return base64.b64encode(out.getvalue()).decode("ascii")


def ours(data: bytes) -> str:
    return prepare_image(data).base64()


def timed(fn, data: bytes, reps: int) -> tuple[float, str]:
    times, result = [], ""
    for _ in range(reps):
        started = time.perf_counter()
        result = fn(data)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(quick: bool, reps: int) -> list[dict]:
    rows = []
    for name, data in make_inputs(quick).items():
        if not quick:  # warm caches and lazy imports for both sides
            baseline(data)
            ours(data)
        # Interleave the two sides so machine noise hits both alike.
        base_ts, our_ts, base_b64, our_b64 = [], [], "", ""
        for _ in range(reps):
            t, base_b64 = timed(baseline, data, 1)
            base_ts.append(t)
            t, our_b64 = timed(ours, data, 1)
            our_ts.append(t)
        base_t, our_t = statistics.median(base_ts), statistics.median(our_ts)
        original_b64 = (len(data) + 2) // 3 * 4
        prepared = prepare_image(data)
        rows.append(
            {
                "input": name,
                "input_bytes": len(data),
                "reps": reps,
                "ours_ms": round(our_t * 1000, 1),
                "baseline_ms": round(base_t * 1000, 1),
                "ratio": round(our_t / base_t, 3),
                "ours_b64_bytes": len(our_b64),
                "baseline_b64_bytes": len(base_b64),
                "original_b64_bytes": original_b64,
                "sent_vs_original": round(len(our_b64) / original_b64, 3),
                "summary": prepared.summary(),
            }
        )
    return rows


def run(quick: bool) -> list[dict]:
    """The suite's rows: prepare time vs the minimal script, and bytes sent vs the original."""
    from benchmarks.common import row

    reps = 1 if quick else 7
    measured = measure(quick, reps)
    out = []
    for r, kind in zip(measured, ("screenshot", "photo"), strict=True):
        out.append(
            row(
                f"prepare_{kind}",
                f"prepare one {r['input']}",
                r["ours_ms"],
                "ms",
                baseline=r["baseline_ms"],
                budget="≤ 1.2× minimal Pillow script",
                limit=1.2,
                by="ratio",
                runs=reps,
                note=r["summary"],
            )
        )
    for r, kind in zip(measured, ("screenshot", "photo"), strict=True):
        out.append(
            row(
                f"bytes_{kind}",
                f"bytes sent for a {r['input']}",
                r["ours_b64_bytes"],
                "B",
                baseline=r["original_b64_bytes"],
                budget="≤ 1/4 of base64(original)",
                limit=0.25,
                by="ratio",
                note=r["summary"],
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, one repetition")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per input (default 7)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--rows", action="store_true", help="print/write the suite's rows")
    args = parser.parse_args(argv)
    if args.rows:
        rows = run(args.quick)
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    reps = 1 if args.quick else max(1, args.reps)
    rows = measure(args.quick, reps)

    header = (
        f"{'input':26} {'ours ms':>8} {'base ms':>8} {'ratio':>6} "
        f"{'sent b64':>10} {'orig b64':>10} {'sent/orig':>9}  summary"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['input']:26} {r['ours_ms']:8.1f} {r['baseline_ms']:8.1f} {r['ratio']:6.2f} "
            f"{r['ours_b64_bytes']:10d} {r['original_b64_bytes']:10d} "
            f"{r['sent_vs_original']:9.3f}  {r['summary']}"
        )
    print(f"(median of {reps} run(s); ratio = ours / baseline, lower is better)")
    if args.json:
        args.json.write_text(json.dumps({"results": rows}, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
