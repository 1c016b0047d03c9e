"""Lurewatch crawler: the Scrapy project (settings, items, pipelines, store, CLI)."""
