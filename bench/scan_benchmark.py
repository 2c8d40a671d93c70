"""Scan v2 benchmark (issue 20): trigger families nobody listed, planted in real corpora, against
ssti_hf's scan + sanitize and the two published baselines (Gardner et al. 2021; Z-defence).

Each case plants one family (bench/scan_bench/triggers.py) in 5/10/25/50% of one class of one
corpus (bench/scan_bench/corpora.py) at the beginning, a random word boundary or the end of the
row (the location and the class rotate over the cases; --all-locations runs all three), then
every detector cleans the data. Per case:

- hit (recall): the detector flagged something, and what it removed (or, for Z-defence, the
  tokens for which it dropped a row) overlaps the planted string in >= 90% of the injected rows;
- restored: injected rows whose cleaned text equals the original exactly (a dropped row is not);
- other rows changed: rows nobody injected whose text changed or that were dropped;
- seconds: detection + cleaning.
Each corpus is also run clean: anything flagged there is a false flag.

    pip install -e ".[bench]"
    python bench/scan_benchmark.py [--corpora imdb bbc sms tweets] [--families ...] [--rates 5 10 25 50]
        [--detectors ssti_hf gardner z-defence] [--rows 5000] [--json FILE] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import baselines, corpora, triggers  # noqa: E402

HIT_SHARE = 0.9


def run_ssti_hf(texts, labels):
    import datasets

    from ssti_hf import sanitize, scan

    data = datasets.Dataset.from_dict({"text": texts, "label": labels.tolist()})
    result = scan(data, top=0)
    clean, _ = sanitize(data, result, record_spans=True)
    flagged = [f"{f.pattern} (label {f.label})" for f in result.flagged_findings]
    return flagged, clean["text"], clean["sanitize_spans"]


DETECTORS = {
    "ssti_hf": run_ssti_hf,
    "gardner": lambda texts, labels: baselines.gardner(texts, labels),
    "z-defence": lambda texts, labels: baselines.z_defence(texts, labels),
}


def measure(detector, texts, labels, injected=None):
    start = time.perf_counter()
    flagged, cleaned, spans = DETECTORS[detector](texts, labels)
    seconds = time.perf_counter() - start
    changed = np.array([c is None or c != t for c, t in zip(cleaned, texts)])
    out = {"flagged": len(flagged), "flagged_items": [str(f) for f in flagged[:5]], "seconds": round(seconds, 3)}
    if injected is None:
        out["rows_changed"] = int(changed.sum())
        return out
    rows = np.flatnonzero(injected.injected)
    touched = sum(
        any(a < injected.spans[r][1] and injected.spans[r][0] < b for a, b in spans[r]) for r in rows
    )
    restored = sum(cleaned[r] == injected.original[r] for r in rows)
    others = ~injected.injected
    out.update(
        injected=len(rows),
        touched=int(touched),
        hit=bool(flagged) and touched >= HIT_SHARE * len(rows),
        restored=int(restored),
        other_rows=int(others.sum()),
        other_changed=int(changed[others].sum()),
        dropped=int(sum(c is None for c in cleaned)),
    )
    return out


def cases(corpus_names, family_names, rates, all_locations):
    for ci, corpus in enumerate(corpus_names):
        for fi, family in enumerate(family_names):
            for ri, rate in enumerate(rates):
                locations = triggers.LOCATIONS if all_locations else [triggers.LOCATIONS[(ci + fi + ri) % 3]]
                for location in locations:
                    yield corpus, family, rate, location, fi + ri


def held_out(corpus, family):
    return corpus in corpora.HELD_OUT_CORPORA or family in {t.name for t in triggers.HELD_OUT + triggers.NEW}


def split_of(corpus, family):
    """dev, held-out (a held-out family or corpus) or new (a family written after the method)."""
    if family in {t.name for t in triggers.NEW}:
        return "new"
    return "held-out" if held_out(corpus, family) else "dev"


def summarize(records, detectors, rates):
    table = {}
    for detector in detectors:
        for split in ("dev", "held-out", "new", "all"):
            for rate in rates:
                chosen = [r[detector] | {"case": r} for r in records
                          if r["rate"] == rate and split in ("all", r["split"])]
                if not chosen:
                    continue
                table[(detector, split, rate)] = {
                    "cases": len(chosen),
                    "recall": sum(c["hit"] for c in chosen) / len(chosen),
                    "restored": sum(c["restored"] for c in chosen) / max(1, sum(c["injected"] for c in chosen)),
                    "other_changed": sum(c["other_changed"] for c in chosen) / max(1, sum(c["other_rows"] for c in chosen)),
                    "other_changed_max": max(c["other_changed"] / c["other_rows"] for c in chosen),
                    "seconds": float(np.mean([c["seconds"] for c in chosen])),
                }
    return table


def markdown(table, clean, detectors, rates, misses, meta) -> str:
    lines = [f"Made by {meta['code']}; {meta['cases']} cases, {meta['command']}", ""]
    lines += ["| detector | split | rate | cases | recall | rows restored | other rows changed (mean / max) | s per case |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for (detector, split, rate), s in table.items():
        lines.append(f"| {detector} | {split} | {rate}% | {s['cases']} | {s['recall']:.1%} | {s['restored']:.1%} | "
                     f"{s['other_changed']:.2%} / {s['other_changed_max']:.2%} | {s['seconds']:.2f} |")
    lines += ["", "| clean corpus | rows | " + " | ".join(f"{d} flags (rows changed)" for d in detectors) + " |",
              "|---|---:|" + "---:|" * len(detectors)]
    for corpus, c in clean.items():
        lines.append(f"| {corpus} | {c['rows']:,} | " + " | ".join(f"{c[d]['flagged']} ({c[d]['rows_changed']:,})" for d in detectors) + " |")
    if misses:
        lines += ["", "Misses of " + detectors[0] + ": " + "; ".join(misses)]
    return "\n".join(lines) + "\n"


def code_version() -> str:
    import ssti_hf

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return f"ssti_hf {getattr(ssti_hf, '__version__', '?')} at commit {commit}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=list(corpora.CORPORA), choices=list(corpora.CORPORA))
    parser.add_argument("--families", nargs="+", default=list(triggers.TRIGGERS), choices=list(triggers.TRIGGERS))
    parser.add_argument("--rates", nargs="+", type=int, default=list(triggers.RATES))
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS), choices=list(DETECTORS))
    parser.add_argument("--all-locations", action="store_true", help="every case at begin, random and end")
    parser.add_argument("--rows", type=int, default=5000, help="rows sampled from IMDB and the tweets (seeded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    import datasets

    datasets.disable_progress_bars()
    loaded = {name: corpora.CORPORA[name](seed=args.seed, **({"rows": args.rows} if name in corpora.SAMPLED else {}))
              for name in args.corpora}
    clean = {}
    for name, (texts, labels) in loaded.items():
        clean[name] = {"rows": len(texts)} | {d: measure(d, texts, labels) for d in args.detectors}
        print(f"clean {name}: " + ", ".join(f"{d} {clean[name][d]['flagged']} flagged ({clean[name][d]['rows_changed']} rows changed)"
                                            for d in args.detectors) + f"  {clean[name][args.detectors[0]]['flagged_items']}", flush=True)
    records, misses = [], []
    for corpus, family, rate, location, turn in cases(args.corpora, args.families, args.rates, args.all_locations):
        texts, labels = loaded[corpus]
        k = int(labels.max()) + 1
        label = turn % k
        seed = args.seed * 1000 + len(records)
        planted = triggers.inject(texts, labels, triggers.TRIGGERS[family], rate, location, label, seed)
        record = {"corpus": corpus, "family": family, "rate": rate, "location": location, "label": label,
                  "seed": seed, "held_out": held_out(corpus, family), "split": split_of(corpus, family)}
        for d in args.detectors:
            record[d] = measure(d, planted.texts, labels, planted)
        records.append(record)
        first = record[args.detectors[0]]
        if not first["hit"] or first["restored"] < 0.95 * first["injected"]:
            misses.append(f"{corpus}/{family}/{rate}%/{location}: touched {first['touched']}/{first['injected']}, "
                          f"restored {first['restored']}, flagged {first['flagged_items'][:2]}")
        print(f"{corpus:7} {family:14} {rate:3}% {location:6} " + "  ".join(
            f"{d}: {'HIT' if record[d]['hit'] else 'miss'} {record[d]['restored']}/{record[d]['injected']} restored, "
            f"{record[d]['other_changed']} other, {record[d]['seconds']:.2f}s" for d in args.detectors), flush=True)
    table = summarize(records, args.detectors, args.rates)
    print()
    for (detector, split, rate), s in table.items():
        print(f"{detector:10} {split:8} {rate:3}%: recall {s['recall']:.1%} ({s['cases']} cases), restored {s['restored']:.1%}, "
              f"other rows changed {s['other_changed']:.3%} (max {s['other_changed_max']:.3%}), {s['seconds']:.2f} s/case")
    meta = {"code": code_version(), "cases": len(records), "command": "python bench/scan_benchmark.py " + " ".join(argv or sys.argv[1:])}
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "clean": clean, "cases": records,
                                         "summary": [{"detector": d, "split": s, "rate": r} | v for (d, s, r), v in table.items()]}, indent=1))
    if args.markdown:
        args.markdown.write_text(markdown(table, clean, args.detectors, args.rates, misses, meta))


if __name__ == "__main__":
    main()
