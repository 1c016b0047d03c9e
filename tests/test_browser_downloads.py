"""Issue 11: a page that starts a huge download cannot fill the disk of a browser crawl.

Browser contexts refuse downloads (crawler.browser.LOCKED_DOWN_CONTEXT, accept_downloads False): Chromium drops
the stream after its first bytes and Playwright writes nothing to its artifacts directory. Real Chromium, a real
server on 127.0.0.1 that streams up to 200 MB and stops when the client goes away."""
from __future__ import annotations

import shutil
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.browser import find_chromium
from test_profiles import ads, scrapy_crawl

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (run `make browser`)")

MB = 1024 * 1024
STREAM_BYTES = 200 * MB

# The page starts the download at once, then shows its job list when the server says the stream is over
# (or after ~12 s, so a stuck stream cannot hang the crawl).
BOARD = b"""<html><body>
<div class="job-card" data-job-id="d1"><h2 class="job-title">Data entry, Bavet</h2>
<p class="job-summary">Free visa and flight.</p></div>
<a id="get" href="/big.bin" download="big.bin">brochure</a>
<script>
document.getElementById('get').click();
let polls = 0;
async function poll() {
  const state = await fetch('/status', {cache: 'no-store'}).then(r => r.text()).catch(() => 'wait');
  if (state === 'done' || ++polls > 60) {
    const ready = document.createElement('div'); ready.id = 'jobs-ready'; document.body.appendChild(ready);
  } else setTimeout(poll, 200);
}
poll();
</script></body></html>"""


class DownloadBoard:
    """Serves BOARD, /big.bin (an attachment of STREAM_BYTES, sent in 1 MB chunks until the client disconnects)
    and /status. When the stream ends it records the files Playwright's artifacts directories hold."""

    def __init__(self, tmpdir: Path):
        self.tmpdir = tmpdir
        self.sent = 0
        self.stream_over = threading.Event()
        self.artifacts_at_end: dict[str, int] = {}
        board = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no ~40 ms stall per keep-alive response

            def log_message(self, *args):
                pass

            def reply(self, body: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/big.bin":
                    board.stream(self)
                elif self.path == "/status":
                    self.reply(b"done" if board.stream_over.is_set() else b"wait", "text/plain")
                elif self.path == "/":
                    self.reply(BOARD, "text/html; charset=utf-8")
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Disposition", 'attachment; filename="big.bin"')
        handler.send_header("Content-Length", str(STREAM_BYTES))
        handler.end_headers()
        chunk = bytes(range(256)) * 4096
        try:
            while self.sent < STREAM_BYTES:
                handler.wfile.write(chunk)
                self.sent += len(chunk)
        except OSError:  # the client went away
            pass
        finally:
            self.artifacts_at_end = artifact_files(self.tmpdir)
            self.stream_over.set()
            handler.close_connection = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> "DownloadBoard":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def artifact_files(tmpdir: Path) -> dict[str, int]:
    """Files (path -> size) in the directories Playwright keeps downloads in (TMPDIR/playwright-artifacts-*)."""
    return {str(p): p.stat().st_size for p in tmpdir.glob("playwright-artifacts-*/**/*") if p.is_file()}


@pytest.mark.browser
@needs_chromium
def test_browser_crawl_refuses_a_huge_download(tmp_path, monkeypatch, request):
    # the crawl's own temp dir, where Playwright's artifacts directories appear; short, as Chromium puts sockets there
    tmpdir = Path(tempfile.mkdtemp(prefix="lw-dl-"))
    request.addfinalizer(lambda: shutil.rmtree(tmpdir, ignore_errors=True))
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    before = artifact_files(tmpdir)
    with DownloadBoard(tmpdir) as board:
        profile = tmp_path / "downloads.yaml"
        profile.write_text(
            "name: downloads\nstart_urls: [" + board.url("/") + "]\nbrowser: true\n"
            "wait_for: {css: '#jobs-ready'}\nlisting:\n  item: {css: 'div.job-card'}\n"
            "listing_fields:\n  external_id: {css: '::attr(data-job-id)'}\n  title: {css: 'h2.job-title'}\n"
            "  description: {css: '.job-summary'}\n", encoding="utf-8")
        result = scrapy_crawl("profile", "-a", f"name={profile}", db=tmp_path / "ads.db")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r["external_id"] for r in ads(tmp_path / "ads.db")] == ["d1"], result.stderr[-3000:]  # the page was crawled
    assert board.stream_over.is_set()  # Chromium did request the download ...
    assert board.sent < 20 * MB, f"the server sent {board.sent / MB:.0f} MB of {STREAM_BYTES / MB:.0f} MB"  # ... and dropped it
    assert not [size for size in board.artifacts_at_end.values() if size >= MB], board.artifacts_at_end
    assert artifact_files(tmpdir) == before
