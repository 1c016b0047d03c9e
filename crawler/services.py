"""The servers scale-out needs: Redis (Debian's `redis-server`) and scrapyd (PyPI, installed with Lurewatch).

`python -m crawler.services ensure` (run by `make install`) installs redis-server with apt when it is missing,
like `python -m crawler.browser ensure` does for Chromium. `RedisServer` and `ScrapydNode` start a private
server on a free 127.0.0.1 port in a folder of their own and stop it (tests, `make bench`, trying things out):

    with RedisServer(tmp) as redis_server:
        redis_server.url    # redis://127.0.0.1:PORT/0
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REDIS_PACKAGE = "redis-server"


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server",) if os.access(p, os.X_OK)), None)


def ensure() -> str:
    found = find_redis_server()
    if found:
        print(f"redis-server: {found}")
        return found
    print(f"redis-server: not found; installing Debian's {REDIS_PACKAGE} package with apt-get", file=sys.stderr)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", REDIS_PACKAGE], check=True,
                   env=env)
    found = find_redis_server()
    if not found:
        sys.exit("redis-server: apt-get finished but no redis-server executable was found")
    print(f"redis-server: {found}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{what} did not start within {timeout:g}s; see {log}")


class _Server:
    proc: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class RedisServer(_Server):
    """A redis-server on 127.0.0.1:PORT with its files in `folder` (no persistence to disk)."""

    def __init__(self, folder: str | Path, port: int | None = None):
        self.folder = Path(folder)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        exe = find_redis_server()
        if not exe:
            raise RuntimeError("redis-server is not installed: run `make install` (python -m crawler.services ensure)")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "redis.log"
        self.proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                                      "--save", "", "--appendonly", "no", "--logfile", str(log)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def ping() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        _wait(ping, "redis-server", self.proc, log)
        return self


SCRAPYD_CONF = """[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {folder}/eggs
logs_dir = {folder}/logs
dbs_dir = {folder}/dbs
items_dir =
jobs_to_keep = 20
max_proc = {max_proc}
poll_interval = {poll}
"""


class ScrapydNode(_Server):
    """A scrapyd daemon on 127.0.0.1:PORT (its eggs, logs and queue under `folder`), run with this Python."""

    def __init__(self, folder: str | Path, port: int | None = None, *, max_proc: int = 2, poll: float = 0.2):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.max_proc, self.poll = max_proc, poll

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ScrapydNode":
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=self.port, folder=self.folder,
                                                                      max_proc=self.max_proc, poll=self.poll))
        log = self.folder / "scrapyd.log"
        # scrapyd reads ./scrapyd.conf; it runs each crawl with this interpreter (`python -m scrapyd.runner`)
        self.proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=self.folder, stdin=subprocess.DEVNULL,
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))

        def up() -> bool:
            with urllib.request.urlopen(self.url + "/daemonstatus.json", timeout=2) as response:
                return response.status == 200

        _wait(up, "scrapyd", self.proc, log)
        return self


if __name__ == "__main__":
    if sys.argv[1:] == ["ensure"]:
        ensure()
    else:
        print(find_redis_server() or "redis-server not found")
