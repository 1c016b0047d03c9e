"""The generic JobPosting spider with a bug: its callback raises on ad pages whose path is in
`raise_on` (comma-separated, e.g. "/ad/2"; "all" for every ad page). For tests of how a crawl
with spider exceptions is judged and counted; run through crawler.run.run_crawl."""
from spiders.jobposting import JobPostingSpider


class RaisingSpider(JobPostingSpider):
    name = "raising"

    def __init__(self, *args, raise_on: str = "all", **kwargs):
        super().__init__(*args, **kwargs)
        self.raise_on = {p for p in raise_on.split(",") if p}

    def ads_from_page(self, response):
        path = "/" + response.url.split("/", 3)[-1]
        if path.startswith("/ad/") and ("all" in self.raise_on or path in self.raise_on):
            raise RuntimeError(f"bug in the spider on {path}")
        yield from super().ads_from_page(response)
