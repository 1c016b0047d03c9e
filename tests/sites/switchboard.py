"""The demo board on a free port, switchable while it runs, for the scheduled-crawl tests.

    board = SwitchBoard().start()
    board.mode = "error"   # every page answers 500; "empty": 200 pages without any ad; "ok": the demo board
    board.delay = 0.3      # seconds each request waits (a slow board)
    board.stop()
"""
from __future__ import annotations

import time

from crawler.demo import DemoBoard
from crawler.localsite import Page

EMPTY_PAGE = ("<!doctype html><html><head><title>Jobs</title></head><body><h1>Jobs</h1>"
              "<p>No vacancies at the moment.</p></body></html>")


class SwitchBoard(DemoBoard):
    def __init__(self, **kwargs):
        super().__init__(port=0, **kwargs)
        self.mode = "ok"
        self.delay = 0.0
        self.site.fallback = self.switched

    def switched(self, handler):
        if self.delay:
            time.sleep(self.delay)
        if self.mode == "error":
            return Page("server error", status=500, content_type="text/plain")
        if self.mode == "empty":
            if handler.path == "/robots.txt":
                return Page("User-agent: *\nDisallow:\n", content_type="text/plain")
            return Page(EMPTY_PAGE)
        return self.route(handler)
