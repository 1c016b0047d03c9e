"""The demo job board Lurewatch ships: 50 invented ads (lures and legitimate jobs) served on 127.0.0.1."""
from .board import ADS_PATH, DEFAULT_PORT, BoardDataError, DemoAd, DemoBoard, job_posting, load_ads

__all__ = ["ADS_PATH", "DEFAULT_PORT", "BoardDataError", "DemoAd", "DemoBoard", "job_posting", "load_ads"]
