"""Scrapy settings for Lurewatch. `scrapy crawl NAME` from the repo root uses these."""

BOT_NAME = "lurewatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# The one registry of our spiders: name -> class. `scrapy crawl NAME` and `lurewatch crawl` import only that
# spider's module (crawler/spiderloader.py); other names and `scrapy list` walk SPIDER_MODULES as Scrapy does.
SPIDER_LOADER_CLASS = "crawler.spiderloader.RegistrySpiderLoader"
LUREWATCH_SPIDERS = {
    "feed": "spiders.feed.FeedSpider",
    "jobposting": "spiders.jobposting.JobPostingSpider",
    "profile": "spiders.profile.ProfileSpider",
    "sitemap": "spiders.sitemap.SitemapSpider",
    "telegram": "spiders.telegram.TelegramSpider",
}

# Lurewatch's own settings
LUREWATCH_DB = "lurewatch.db"
LUREWATCH_CONTACT_URL = "https://github.com/lurewatch/lurewatch"
LUREWATCH_MAX_PAGES = 500
LUREWATCH_MAX_ADS_PER_PAGE = 200  # postings kept from one page; more are counted in lurewatch/ads/over_page_cap
LUREWATCH_SITEMAP_MAX_ENTRIES = 50_000  # entries read from one sitemap (the protocol's own limit)
LUREWATCH_MAX_FIELD_CHARS = 50_000  # ad text fields are stored and assessed cut to this, with a visible marker
# (stats lurewatch/ads/text_truncated, lurewatch/assess/truncated_fields)
LUREWATCH_DB_BUSY_TIMEOUT = 30  # seconds SQLite waits for another process's lock
LUREWATCH_DB_RETRY_FOR = 120  # seconds a locked write transaction is retried after that
LUREWATCH_ASSESS_BATCH = 32  # ads assessed together (Engine.assess_many), or those within LUREWATCH_ASSESS_WAIT s
LUREWATCH_ASSESS_WAIT = 0.05
LUREWATCH_ASSESS_PROCESS = True  # assess in one forked child process (crawler/assessproc.py); False: in the reactor thread
LUREWATCH_WRITE_PROCESS = True  # that child also writes the ads it assessed (False: the writer thread writes them)
LUREWATCH_WRITE_BATCH = 500  # ads (and seen/removed marks) per write transaction, on the writer thread
LUREWATCH_WRITE_INTERVAL = 0.2  # seconds the writer waits to fill a batch (crawler/batchwriter.py)
LUREWATCH_JOB = None  # plan job name written to crawls.job (`lurewatch crawl --job`)
# Shared frontier (crawler/frontier.py, crawler/frontier_scrapy.py): off unless LUREWATCH_FRONTIER is a redis:// URL
LUREWATCH_FRONTIER = None
LUREWATCH_FRONTIER_CRAWL = None  # the crawl's name in Redis (default: the job, else spider + start URLs hash)
LUREWATCH_SINK = "db"  # "redis": push assessed items to the crawl's Redis stream for `lurewatch ingest`
LUREWATCH_FRONTIER_HEARTBEAT = 2.0  # s between a worker's heartbeats
LUREWATCH_FRONTIER_DEAD_AFTER = 10.0  # s without a heartbeat before a worker is dead and its requests requeued
LUREWATCH_FRONTIER_SITE_CONCURRENCY = None  # requests in flight to one site across all workers (default: per domain)
LUREWATCH_FRONTIER_SITE_DELAY = None  # s between two requests to one site across all workers (default: DOWNLOAD_DELAY)
LUREWATCH_NODE = None  # the scrapyd node (URL) that runs this crawl, shown by `lurewatch status --frontier`
ADDONS = {"crawler.frontier_addon.FrontierAddon": 0}  # imports crawler/frontier_scrapy.py only with a frontier
# Campaign linking at the end of every crawl (crawler/campaigns). A contact value shared by more distinct
# sources, or more ads, than these is generic (a board's support email, an agency hotline): it links nothing.
LUREWATCH_CAMPAIGNS = True
LUREWATCH_LINK_PROCESS = True  # that linking runs in the assess child (crawler/assessproc.py), not the crawl process
LUREWATCH_CAMPAIGN_GENERIC_SOURCES = 8  # measured: BENCHMARKS.md, campaign linking
LUREWATCH_CAMPAIGN_GENERIC_ADS = 100
LUREWATCH_CAMPAIGN_GENERIC_CLEAN_ADS = 3  # ... and so is a value held by this many ads the engine judged clean,
LUREWATCH_CAMPAIGN_GENERIC_CLEAN_SHARE = 0.5  # when they are at least this share of its holders
LUREWATCH_CAMPAIGN_TEXT_THRESHOLD = 0.5  # estimated Jaccard of two ads' template shingles that links them

# Politeness
USER_AGENT = f"Lurewatch/0.1 (+{LUREWATCH_CONTACT_URL}; job-ad safety research)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many asyncio tasks for EVERY response's output (default 100: 0.48 ms per response, 0.17 at 32);
# 32 = LUREWATCH_ASSESS_BATCH, so one page can still fill an assess batch
CONCURRENT_ITEMS = 32
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy >= 2.19's HTTP control endpoint: off like the telnet console (and no aiohttp import)

# Safety, incremental crawling, error accounting (crawler/middlewares.py, crawler/incremental.py).
# USER_AGENT above is rebuilt from LUREWATCH_CONTACT_URL at startup unless set with -s / custom_settings.
LUREWATCH_TRUSTED_HOSTS = []  # "host" or "host:port" the SSRF guard lets through (start URL hosts are added)
LUREWATCH_SSRF_GUARD = True
LUREWATCH_CONDITIONAL_REQUESTS = True  # If-None-Match / If-Modified-Since for stored ads
LUREWATCH_HASH_FIRST = True  # a page with the body of its last fetch: ads marked seen, not extracted (crawler/pagehash.py)
LUREWATCH_RETRY_AFTER_MAX = 60  # seconds: cap on a server's Retry-After
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ErrorAccountingMiddleware": 50,
    "crawler.middlewares.SSRFGuardMiddleware": 60,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.LurewatchRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "crawler.middlewares.LurewatchUserAgentMiddleware": 500,
    "crawler.middlewares.RetryAfterMiddleware": 560,
    "crawler.middlewares.ConditionalRequestMiddleware": 570,
    "crawler.middlewares.CharsetMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.CountingHttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.CountingRedirectMiddleware": 600,
}
EXTENSIONS = {
    "scrapy.extensions.remote_control.RemoteControl": None,  # not even imported (it pulls in aiohttp)
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.throttle.LurewatchAutoThrottle": 0,  # AutoThrottle that also lowers its delay on 304s
    "crawler.crawlrecord.CrawlRecorder": 400,  # the one owner of the crawls row
    "crawler.incremental.IncrementalExtension": 500,
    "crawler.resume.JobDirGuard": 0,
    "crawler.summary.CrawlSummary": 900,  # after IncrementalExtension: the line counts removals
}
LUREWATCH_SUMMARY = True  # summary line at spider close (run_crawl turns it off: the CLI prints its own)
# Pause/resume with JOBDIR that survives SIGKILL (crawler/resume.py)
DUPEFILTER_CLASS = "crawler.resume.ResumableDupeFilter"
SPIDER_MIDDLEWARES = {
    "crawler.resume.CompletionMiddleware": 950,
}

ITEM_PIPELINES = {
    "crawler.pipelines.NormalisePipeline": 100,
    "crawler.pipelines.AssessPipeline": 200,
    "crawler.pipelines.StorePipeline": 300,
}

# Browser pages (scrapy-playwright). The playwright download handler is NOT installed here: only
# spiders that need it (site profile `browser: true`) install it via crawler.browser.BrowserConfig.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000  # ms
PLAYWRIGHT_ABORT_REQUEST = "crawler.browser.abort_heavy_request"  # no images, fonts, media
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
LUREWATCH_BROWSER_HEADLESS = True
LUREWATCH_BROWSER_MAXSIZE = 5 * 1024 * 1024  # rendered HTML larger than this is dropped
LUREWATCH_BROWSER_WAIT_TIMEOUT = 15  # s: each wait of a rendered page (wait_for, network idle, "Load more")

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
