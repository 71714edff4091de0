#!/usr/bin/env python3
"""Mutation testing with mutmut: how many small planted bugs do the fast suites catch?

    python3 tests/mutation.py [MODULE ...] [--qt] [--children N] [--report]

MODULE is a file or glob under desktop/ (default: every module of desktop/core/, which takes
hours on two cores; a few modules at a time is the habit, e.g. the ones a change touched):

    python3 tests/mutation.py desktop/core/redact.py desktop/core/images/fit.py

It uses the app venv `.venv` (the one `bash tests/run_all.sh` creates); on a fresh clone it
creates it (`python3 -m venv .venv`, `pip install -e '.[test,mutation]'`), and it installs the
`mutation` extra (mutmut) into it when missing. mutmut works in `.mutation/` (git-ignored): a
copy of the checkout's tracked and new files, with `mutants/` inside (made anew each run:
mutmut keeps the results of unchanged code even when the tests changed); the scores of every
run are kept in `.mutation/scores.json`. The mutants run against tests/unit; with
--qt also against the Qt tests of the GUI's deciding logic (send guard, transcript model,
attachment controller), offscreen. One child process by default (the machine has two cores and
is shared); --children raises it. --report only prints the scores of the last runs;
--survivors FILE writes the last run's survivors and timeouts with their diffs; --check FILE
[-- PYTEST ARGS] applies each of them to the checkout's source in turn, runs the tests (default:
tests/unit) and restores it: how a survivor is shown killed by a new test, or how a timeout is
shown to be a survivor or a failure rather than a hang.

The score of a module is detected / all mutants. Detected: a test failed, or the tests ran past
their time limit (the mutant made the code loop or wait: a user would see a hang; mutation
testers count those as detected, and the scores list them apart). mutmut's limit counts only
the tests' calls, not their fixtures: on the image modules a slow test set on a loaded machine
runs past it without looping, so check each timeout (the survivors file lists them). Mutants
no test reaches ("no tests") count as survivors, since a bug there would pass unnoticed. The
README's "Mutation testing" section lists the last measured scores and the mutants judged
equivalent.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
WORK = REPO / ".mutation"

DEFAULT_MODULES = ["desktop/core/*.py", "desktop/core/*/*.py"]
UNIT_TESTS = ["tests/unit"]
# The Qt tests that exercise the GUI's deciding logic (fast, offscreen).
QT_TESTS = [
    "tests/qt/test_transcript.py",
    "tests/qt/test_attachments.py",
    "tests/qt/test_attachment_strip.py",
    "tests/qt/test_user_visible_gaps.py",
]
QT_MODULES = [
    "desktop/ui/vision/vision_guard.py",
    "desktop/ui/transcript/model.py",
    "desktop/ui/attachments/controller.py",
]
LEFT_OUT = [
    "--ignore=tests/unit/test_images_legibility.py",
    "--ignore=tests/unit/test_benchmarks_smoke.py",
    # A mutated module imports mutmut's trampoline (platform, hashlib, socket…), which this
    # test counts as start-up imports.
    "--deselect=tests/unit/test_lean_imports.py::test_building_the_main_window_skips_the_heavy_modules",
]
# mutmut's words for its exit codes (mutmut.stats.status_by_exit_code): a test failed, the tests
# ran out of CPU time (SIGXCPU), or the test process crashed — each is a planted bug noticed.
DETECTED = {"killed", "timeout", "segfault"}


def ensure_venv() -> None:
    """Re-run this script under .venv, creating it or adding mutmut when needed."""
    if not VENV_PYTHON.exists():
        print("[mutation] creating .venv", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True
        )
    has_mutmut = subprocess.run(
        [str(VENV_PYTHON), "-c", "import mutmut, pytestqt"], capture_output=True
    )
    if has_mutmut.returncode != 0:
        print("[mutation] pip install -e '.[test,mutation]' into .venv", file=sys.stderr)
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "-q", "-e", ".[test,mutation]"],
            cwd=REPO,
            check=True,
        )
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])


def checkout_files() -> list[str]:
    """The files of the checkout as it is now: tracked (with local edits) and new ones."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [
        f
        for f in out.split("\0")
        if f and not f.startswith((".mutation/", "docs/")) and (REPO / f).is_file()
    ]


def sync_copy() -> None:
    """Bring .mutation/ up to date with the checkout (mutmut's cache in mutants/ is kept)."""
    WORK.mkdir(exist_ok=True)
    wanted = set(checkout_files())
    for rel in wanted:
        src, dst = REPO / rel, WORK / rel
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    for top in ("desktop", "tests"):
        for path in (WORK / top).rglob("*.py"):
            if str(path.relative_to(WORK)) not in wanted:
                path.unlink()  # deleted in the checkout


def expand(patterns: list[str]) -> list[str]:
    files = sorted(
        str(p.relative_to(REPO))
        for p in REPO.glob("desktop/**/*.py")
        if any(fnmatch.fnmatch(str(p.relative_to(REPO)), pat) for pat in patterns)
    )
    return [f for f in files if not f.endswith("__init__.py") or (REPO / f).stat().st_size > 200]


def write_config(modules: list[str], tests: list[str]) -> None:
    """mutmut reads [tool.mutmut] from the pyproject.toml of the folder it runs in."""
    pyproject = WORK / "pyproject.toml"
    text = (REPO / "pyproject.toml").read_text("utf-8")
    others = sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in WORK.iterdir()
        if p.name not in ("desktop", "tests", "mutants", "pyproject.toml")
    )
    config = {
        "source_paths": ["desktop/"],
        "also_copy": others,  # benchmarks/, build/, resources/…: some tests read them
        "only_mutate": modules,
        # The OCR legibility tests (tesseract, seconds each) and the benchmark smoke test cover
        # fit/limits/pipeline code the fast image tests cover too; left in, every mutant there
        # ran them (~3 mutants a minute with 2 children).
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", *LEFT_OUT],
        "pytest_add_cli_args_test_selection": tests,
        # Qt: workers forked from a process that never made a QApplication.
        "process_isolation": "forkserver",
        "use_git_change_detection": False,
        # A mutant that loops forever (`w -= 1` → `w += 1` in a shrink loop) is stopped after
        # (test time + 10 s) × 3 seconds of wall time (mutmut's CPU limit is twice that), not
        # mutmut's default (t + 1 s) × 15. The 10 s: a test's time in the stats run leaves out
        # what its worker pays first (imports, session fixtures such as the image corpus); with
        # 1 s, mutants of functions every image test reaches "timed out" in seconds without
        # looping. The bound is wall time, so it needs the × 3 on a machine shared with other
        # work: at × 1, 64 of 217 thumbnail mutants "timed out" while a test run went beside.
        "timeout_multiplier": 3.0,
        "timeout_constant": 10.0,
    }
    lines = ["", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    pyproject.write_text(text + "\n".join(lines) + "\n", "utf-8")


SCORES = WORK / "scores.json"


def git_commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "desktop"], cwd=REPO)
    return out.stdout.decode().strip() + ("+local edits" if dirty.returncode else "")


def save_scores(modules: list[str]) -> None:
    """Merge this run's exit codes per module into scores.json (with the commit and date)."""
    saved = json.loads(SCORES.read_text("utf-8")) if SCORES.exists() else {}
    stamp = {"commit": git_commit(), "date": time.strftime("%Y-%m-%d")}
    for module in modules:
        meta = WORK / "mutants" / (module + ".meta")
        if meta.exists():
            codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
            saved[module] = {**stamp, "exit_codes": codes}
    SCORES.write_text(json.dumps(saved, indent=1, sort_keys=True), "utf-8")


def scores(modules: list[str]) -> list[tuple[str, int, int, dict[str, int]]]:
    from mutmut.stats import status_by_exit_code

    saved = json.loads(SCORES.read_text("utf-8")) if SCORES.exists() else {}
    rows = []
    for module in modules:
        codes = saved.get(module, {}).get("exit_codes", {})
        if not codes:
            continue
        words = [status_by_exit_code[c] for c in codes.values()]
        killed = sum(1 for w in words if w in DETECTED)
        others: dict[str, int] = {}
        timeouts = words.count("timeout")
        if timeouts:
            others[f"({timeouts} of them by timeout)"] = 0
        for word in words:
            if word not in DETECTED:
                others[word] = others.get(word, 0) + 1
        entry = saved[module]
        others[f"at {entry['commit']} {entry['date']}:"] = 0
        rows.append((module, killed, len(codes), others))
    return rows


def print_scores(modules: list[str]) -> None:
    rows = scores(modules)
    if not rows:
        print("no results yet for these modules")
        return
    width = max(len(r[0]) for r in rows)
    print(f"\n{'module':<{width}}  detected/total  score  not detected")
    all_killed = all_total = 0
    for module, killed, total, others in rows:
        all_killed, all_total = all_killed + killed, all_total + total
        when = [w for w, n in others.items() if not n]
        rest = " ".join(when + [f"{n} {w}" for w, n in sorted(others.items()) if n])
        print(f"{module:<{width}}  {killed:>5}/{total:<5}  {100 * killed / total:4.0f}%  {rest}")
    print(f"{'all':<{width}}  {all_killed:>5}/{all_total:<5}  {100 * all_killed / all_total:4.0f}%")
    print("\nSurvivors with their diffs: python3 tests/mutation.py --survivors FILE")


def write_survivors(out: Path) -> int:
    """Every mutant of the last run that no test noticed or that timed out, with its diff.

    One process reading mutmut's results (seconds); `mutmut show` per name starts mutmut anew
    each time (5–6 minutes for 300 survivors)."""
    out = out.resolve()
    os.chdir(WORK)
    import mutmut.__main__ as mm
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    found = []
    for path in mm.walk_mutatable_files():
        data = mm.SourceFileMutationData(path=path)
        data.load()
        for name, code in data.exit_code_by_key.items():
            word = mm.status_by_exit_code[code]
            if word in ("survived", "no tests", "timeout"):
                found.append((name, word, path))
    with out.open("w", encoding="utf-8") as f:
        for name, word, path in found:
            f.write(f"=== {name}: {word}\n{get_diff_for_mutant(name, path=path)}\n\n")
    print(f"{len(found)} survivors and timeouts of the last run in {out}")
    return 0


def check_survivors(survivors: Path, tests: list[str]) -> int:
    """Apply each mutant of a --survivors file to the checkout's own source, run `tests` (pytest
    arguments), restore the source: which survivors today's tests catch, without a mutmut run.

    The diff's lines are replaced as text (a hunk that does not match once is reported, not
    applied); the source is restored even when interrupted."""
    blocks = re.split(r"^=== ", survivors.read_text(encoding="utf-8"), flags=re.M)[1:]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    left = []
    for block in blocks:
        name = block.split(":", 1)[0]
        lines = block.splitlines()[1:]
        path = next(line[4:].strip() for line in lines if line.startswith("--- "))
        body = [line for line in lines if line[:1] in " -+" and not line.startswith(("---", "+++"))]
        old = "\n".join(line[1:] for line in body if line[:1] in " -")
        new = "\n".join(line[1:] for line in body if line[:1] in " +")
        source = REPO / path
        text = source.read_text(encoding="utf-8")
        if text.count(old) != 1:
            print(f"does not apply   {name}", flush=True)
            left.append(name)
            continue
        try:
            source.write_text(text.replace(old, new), encoding="utf-8")
            pytest = [str(VENV_PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
            run = subprocess.run(pytest + tests, cwd=REPO, env=env, capture_output=True)
        finally:
            source.write_text(text, encoding="utf-8")
        word = {0: "SURVIVED", 1: "killed"}.get(run.returncode, f"pytest exit {run.returncode}")
        if word != "killed":
            left.append(name)
        print(f"{word:<16} {name}", flush=True)
    print(f"{len(blocks) - len(left)} / {len(blocks)} caught by {' '.join(tests)}")
    return 1 if left else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="files or globs under desktop/")
    parser.add_argument("--qt", action="store_true", help="also the Qt tests (and GUI logic)")
    parser.add_argument("--children", type=int, default=1, help="mutmut --max-children (1)")
    parser.add_argument("--report", action="store_true", help="only print the last scores")
    parser.add_argument(
        "--survivors", type=Path, metavar="FILE", help="write survivors, timeouts, diffs"
    )
    parser.add_argument(
        "--check",
        type=Path,
        metavar="FILE",
        help="apply each mutant of a --survivors FILE, run the tests given after --, restore",
    )
    args, extra = parser.parse_known_args()
    if extra and not args.check:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    ensure_venv()
    if args.survivors:
        return write_survivors(args.survivors)
    if args.check:
        # After `--` argparse hands the pytest arguments to `modules`; options before it land
        # in `extra`.
        tests = [*args.modules, *extra]
        return check_survivors(args.check.resolve(), tests or UNIT_TESTS + LEFT_OUT)
    patterns = args.modules or (DEFAULT_MODULES + (QT_MODULES if args.qt else []))
    modules = expand(patterns)
    if not modules:
        print(f"no module matches {patterns}", file=sys.stderr)
        return 2
    if not args.report:
        sync_copy()
        write_config(modules, UNIT_TESTS + (QT_TESTS if args.qt else []))
        shutil.rmtree(WORK / "mutants", ignore_errors=True)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
        mutmut = [str(VENV / "bin" / "mutmut"), "run", "--max-children", str(args.children)]
        print(f"[mutation] {len(modules)} module(s): {' '.join(modules)}", file=sys.stderr)
        code = subprocess.run(mutmut, cwd=WORK, env=env).returncode
        if code != 0:
            print(f"[mutation] mutmut exited {code}", file=sys.stderr)
        save_scores(modules)
    print_scores(modules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
