"""Scan and sanitize on IMDB (issue 6): scan speed, recall of the injected family at rank 1 over
the injection grid, findings on the clean splits, and what sanitize removes.

For every source (date, country, html) x rate (10/25/50%) x amount (1tok, 5ptok) x location
(begin, random, end) it builds the config's train split, scans it and sanitizes it. The rank-1
finding is a hit when it is flagged, names the target label and covers >= 90% of the injected
spans (measured with the ``ssti_spans`` provenance, which the scan never sees). Sanitize is scored
on the same provenance: injected spans removed, and original words removed.

    python bench/bench_scan.py --data ../shared/data/imdb [--json scan.json] [--markdown scan.md] [--speed-only]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path

import datasets
import pyarrow.parquet as pq

import ssti_hf
from ssti_hf.detect.sanitize import sanitize, score_removal
from ssti_hf.detect.scan import scan

SOURCES, RATES, AMOUNTS, LOCATIONS = ("date", "country", "html"), (10, 25, 50), ("1tok", "5ptok"), ("begin", "random", "end")
COVERS = 0.9  # share of the injected spans the rank-1 finding must match to be the injected family


def time_scan(dataset, repeats: int) -> tuple[float, float]:
    scan(dataset)  # warm-up: imports, first touch of the memory-mapped data
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scan(dataset)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def grid_case(name: str, data: str, seed: int) -> dict:
    train = ssti_hf.load_dataset(name, data, seed=seed)["train"]
    result = scan(train)
    first = result.findings[0]
    covered = score_removal(train, sanitize(train, [first], record_spans=True)[0]).span_recall
    clean, _ = sanitize(train, result, record_spans=True)
    removal = score_removal(train, clean)
    return {
        "config": name,
        "seed": seed,
        "rank1": first.pattern,
        "rank1_score": round(first.score, 3),
        "rank1_covers": round(covered, 4),
        "hit": bool(first.flagged and first.label == 1 and covered >= COVERS),
        "flagged": len(result.flagged_findings),
        "span_recall": round(removal.span_recall, 5),
        "injected_spans": removal.injected_spans,
        "original_words_removed": removal.original_removed,
        "original_words_share": removal.words_removed_share,
        "scan_seconds": round(result.seconds, 2),
    }


def summary(cases: list[dict]) -> dict:
    out = {}
    for rate, amount in itertools.product(RATES, AMOUNTS):
        chosen = [c for c in cases if f"-{rate}pct-{amount}" in c["config"]]
        if chosen:
            out[f"{rate}pct-{amount}"] = f"{sum(c['hit'] for c in chosen)}/{len(chosen)}"
    return {
        "recall_at_1": out,
        "min_span_recall": min(c["span_recall"] for c in cases),
        "max_original_words_share": max(c["original_words_share"] for c in cases),
    }


def markdown(speed, clean, cases, total) -> str:
    lines = [
        "# Scan and sanitize on IMDB",
        "",
        f"Scan of IMDB train (25,000 rows): best {speed[0]:.2f} s, median {speed[1]:.2f} s.",
        "",
        "| clean split | flagged | strongest unflagged |",
        "|---|---:|---|",
        *[f"| {split} | {c['flagged']} | {', '.join(c['top'])} |" for split, c in clean.items()],
        "",
        "| recall at rank 1 | " + " | ".join(total["recall_at_1"]) + " |",
        "|---|" + "---:|" * len(total["recall_at_1"]),
        "| hits | " + " | ".join(total["recall_at_1"].values()) + " |",
        "",
        f"Sanitize: injected spans removed >= {total['min_span_recall']:.2%} in every case; original words removed "
        f"<= {total['max_original_words_share']:.4%}.",
        "",
        "| config | rank-1 finding | score | covers | hit | flagged | spans removed | original words removed |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for c in cases:
        lines.append(
            f"| {c['config']} | {c['rank1']} | {c['rank1_score']:.3f} | {c['rank1_covers']:.1%} | {'yes' if c['hit'] else 'NO'} "
            f"| {c['flagged']} | {c['span_recall']:.2%} | {c['original_words_removed']:,} ({c['original_words_share']:.4%}) |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/imdb", help="IMDB folder with train.parquet and test.parquet")
    parser.add_argument("--repeats", type=int, default=5, help="timed scans of IMDB train")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--sources", nargs="+", default=list(SOURCES))
    parser.add_argument("--rates", type=int, nargs="+", default=list(RATES))
    parser.add_argument("--speed-only", action="store_true", help="time the scan of IMDB train only (no grid)")
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    datasets.disable_progress_bars()

    train = datasets.Dataset(pq.read_table(Path(args.data) / "train.parquet"))
    speed = time_scan(train, args.repeats)
    print(f"scan of IMDB train ({len(train):,} rows): best {speed[0]:.2f} s, median {speed[1]:.2f} s over {args.repeats}")
    if args.speed_only:
        return

    clean = {}
    for split in ("train", "test"):
        result = scan(datasets.Dataset(pq.read_table(Path(args.data) / f"{split}.parquet")))
        top = [f"{f.pattern} ({f.score:.2f})" for f in result.findings[:3]]
        clean[split] = {"flagged": len(result.flagged_findings), "top": top}
        print(f"clean {split}: {len(result.flagged_findings)} flagged; strongest unflagged: {', '.join(top)}")

    cases = []
    print(f"\n{'config':<36} {'rank-1 finding':<24} {'score':>6} {'covers':>7} {'hit':>4} {'spans rm':>9} {'orig words rm':>16}")
    for source, rate, amount, location, seed in itertools.product(args.sources, args.rates, AMOUNTS, LOCATIONS, args.seeds):
        name = f"imdb-ssti-{source}-{rate}pct-{amount}" + ("" if location == "random" else f"-{location}")
        case = grid_case(name, args.data, seed)
        cases.append(case)
        print(
            f"{case['config']:<36} {case['rank1'][:24]:<24} {case['rank1_score']:>6.3f} {case['rank1_covers']:>7.1%} "
            f"{'yes' if case['hit'] else 'NO':>4} {case['span_recall']:>9.2%} "
            f"{case['original_words_removed']:>6,} ({case['original_words_share']:.4%})"
        )
    total = summary(cases)
    print("\nrecall at rank 1:", ", ".join(f"{k} {v}" for k, v in total["recall_at_1"].items()))
    print(f"sanitize: injected spans removed >= {total['min_span_recall']:.2%}; original words removed <= {total['max_original_words_share']:.4%}")
    if args.json:
        args.json.write_text(json.dumps({"scan_seconds": {"best": speed[0], "median": speed[1]}, "clean": clean,
                                         "summary": total, "cases": cases}, indent=2))
    if args.markdown:
        args.markdown.write_text(markdown(speed, clean, cases, total))


if __name__ == "__main__":
    main()
