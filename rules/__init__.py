"""Detection engine and its ruleset (data). Must not import Scrapy."""
from .engine import Engine, Rule, RulesetError, level_for, load_ruleset
from .model import Ad, Assessment, Contact, Evidence

__all__ = ["Ad", "Assessment", "Contact", "Engine", "Evidence", "Rule", "RulesetError", "level_for", "load_ruleset"]
