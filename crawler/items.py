"""The JobAd item: what every spider yields, whatever the site."""
import scrapy


class JobAd(scrapy.Item):
    # identity
    url = scrapy.Field()  # canonical URL of the ad (after redirects, rel=canonical)
    aliases = scrapy.Field()  # other URLs the same ad was reached through
    source = scrapy.Field()  # site host or profile name
    spider = scrapy.Field()
    external_id = scrapy.Field()  # the site's own id, when it has one
    # content
    title = scrapy.Field()
    company = scrapy.Field()
    location = scrapy.Field()
    country = scrapy.Field()
    salary_text = scrapy.Field()
    description = scrapy.Field()
    contact = scrapy.Field()
    posted_at = scrapy.Field()
    # fetch metadata
    etag = scrapy.Field()
    last_modified = scrapy.Field()
    snapshot = scrapy.Field()  # {url, status, content_type, body: bytes}
    page = scrapy.Field()  # {url, sha1, ads}: the page it came from, for hash-first skipping (crawler/pagehash.py)
    # set by the pipelines
    language = scrapy.Field()
    assessment = scrapy.Field()  # rules.Assessment.to_dict()
    stored_flagged = scrapy.Field()  # an unchanged ad keeps its stored assessment: was it flagged
    stored = scrapy.Field()  # (ad_id, status) when the assess child wrote it (crawler/assessproc.py)
    store_error = scrapy.Field()  # why the assess child could not write it
