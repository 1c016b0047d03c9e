"""What a linking run is told (LinkSettings) and what it did (LinkReport)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crawler import settings as defaults


@dataclass(frozen=True)
class LinkSettings:
    """The generic-contact guard and the text threshold (defaults: crawler/settings.py)."""

    generic_sources: int = defaults.LUREWATCH_CAMPAIGN_GENERIC_SOURCES  # a value in MORE sources is generic
    generic_ads: int = defaults.LUREWATCH_CAMPAIGN_GENERIC_ADS  # a value in MORE ads is generic
    text_threshold: float = defaults.LUREWATCH_CAMPAIGN_TEXT_THRESHOLD  # estimated Jaccard of template shingles
    generic_clean_ads: int = defaults.LUREWATCH_CAMPAIGN_GENERIC_CLEAN_ADS  # this many clean holders ...
    generic_clean_share: float = defaults.LUREWATCH_CAMPAIGN_GENERIC_CLEAN_SHARE  # ... this share of them: generic

    def __post_init__(self):
        if self.generic_sources < 1 or self.generic_ads < 2:
            raise ValueError(f"generic thresholds must be >= 1 source and >= 2 ads, got {self.generic_sources} "
                             f"sources, {self.generic_ads} ads")
        if self.generic_clean_ads < 2 or not 0 <= self.generic_clean_share <= 1:
            raise ValueError(f"clean-holder guard needs >= 2 ads and a share in [0, 1], got {self.generic_clean_ads}"
                             f" ads, {self.generic_clean_share}")
        if not 0 < self.text_threshold <= 1:
            raise ValueError(f"text threshold must be in (0, 1], got {self.text_threshold}")

    @classmethod
    def from_settings(cls, settings) -> "LinkSettings":
        """From Scrapy settings (LUREWATCH_CAMPAIGN_*)."""
        return cls(settings.getint("LUREWATCH_CAMPAIGN_GENERIC_SOURCES", cls.generic_sources),
                   settings.getint("LUREWATCH_CAMPAIGN_GENERIC_ADS", cls.generic_ads),
                   settings.getfloat("LUREWATCH_CAMPAIGN_TEXT_THRESHOLD", cls.text_threshold),
                   settings.getint("LUREWATCH_CAMPAIGN_GENERIC_CLEAN_ADS", cls.generic_clean_ads),
                   settings.getfloat("LUREWATCH_CAMPAIGN_GENERIC_CLEAN_SHARE", cls.generic_clean_share))


@dataclass
class LinkReport:
    mode: str = "full"  # full | incremental
    ads_seen: int = 0  # ads the run looked at (all, or the new/changed ones)
    links_added: int = 0
    links_by_kind: Counter = field(default_factory=Counter)  # links written by this run
    campaigns: int = 0  # campaigns in the store after the run
    ads_linked: int = 0  # ads in a campaign after the run
    generic_skipped: int = 0  # contact values the guard refused (in the store after the run)
    campaigns_touched: int = 0  # campaigns created, changed or kept by this run's groups
    seconds: float = 0.0
    touched_ads: list = field(default_factory=list)  # incremental: the ads whose group was decided again
    regrouped_all: bool = False  # incremental, but a campaign over the closure limit: every campaign regrouped
    regroup_deferred: bool = False  # the same, left to the caller (relink_rescanned regroups once at the end)

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.links_by_kind.items(), key=lambda kv: (-kv[1], kv[0])))
        return (f"campaigns ({self.mode}, {self.ads_seen} ads): {self.links_added} links added"
                + (f" ({kinds})" if kinds else "") + f"; {self.campaigns} campaigns, {self.ads_linked} ads linked, "
                f"{self.generic_skipped} generic contact values skipped; {self.seconds:.1f}s")
