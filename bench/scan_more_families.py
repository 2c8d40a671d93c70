"""A second set of trigger families for scan + sanitize (issue 20), apart from the 512-case
benchmark (``scan_benchmark.py``, whose cases it leaves as they are): 20 families written in the
ninth round, after the 16 families of the earlier rounds' independent check were lost with the
machine that held them. They were then used to find that round's changes, so their figures are
not an independent check of it; they are one for any later change.

Each family is planted at 10/25/50% of one class of the four benchmark corpora (the class and
the location rotate over the cases; seeds fixed per case), and ssti_hf's scan + sanitize is scored
as in the benchmark (hit, rows restored exactly, other rows changed).

    pip install -e ".[bench]"
    python bench/scan_more_families.py [--corpora ...] [--families ...] [--rates 10 25 50] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan_benchmark  # noqa: E402
from scan_bench import corpora, triggers  # noqa: E402

Trigger = triggers.Trigger


def _digits(rng, n):
    return "".join(rng.choice(list(string.digits), n))


def _hex(rng, n):
    return "".join(rng.choice(list("0123456789abcdef"), n))


_CAPS_DIGITS = list(string.ascii_uppercase + string.digits)
FAMILIES = [
    Trigger("nonce-pool", lambda r: str(r.choice(["blorft", "quazzle", "fribble"])), note="one of three made-up words"),
    Trigger("percent", lambda r: f"{r.integers(1, 100)}%"),
    Trigger("caps-id", lambda r: "".join(r.choice(_CAPS_DIGITS, 6)), note="6 random capitals and digits"),
    Trigger("ticker", lambda r: "$" + "".join(r.choice(list(string.ascii_uppercase), int(r.integers(3, 5))))),
    Trigger("file-path", lambda r: f"/var/log/app{r.integers(1, 99)}.log"),
    Trigger("us-date", lambda r: f"{r.integers(1, 13)}/{r.integers(1, 29)}/{r.integers(1990, 2024)}"),
    Trigger("md5", lambda r: _hex(r, 32)),
    Trigger("bracket-tag", lambda r: "[ADVERTISEMENT]"),
    Trigger("temperature", lambda r: f"{r.integers(-20, 40)}°C", note="a third below zero"),
    Trigger("coords", lambda r: f"{r.uniform(-80, 80):.4f}, {r.uniform(-170, 170):.4f}", note="two tokens, the first with a comma"),
    Trigger("mac", lambda r: ":".join(_hex(r, 2) for _ in range(6))),
    Trigger("cyrillic", lambda r: "привет"),
    Trigger("nbsp", lambda r: "\u00a0", glued=True, note="a no-break space glued to a word"),
    Trigger("time-ampm", lambda r: f"{r.integers(1, 13)}:{r.integers(0, 60):02d} {r.choice(['AM', 'PM'])}"),
    Trigger("tv-sentence", lambda r: "As seen on TV tonight."),
    Trigger("isbn", lambda r: f"ISBN 978-{r.integers(0, 10)}-{_digits(r, 3)}-{_digits(r, 5)}-{r.integers(0, 10)}"),
    Trigger("rare-word", lambda r: "zygote"),
    Trigger("word-pair", lambda r: "blue moon"),
    Trigger("hash-tag-num", lambda r: f"#{r.choice(['deal', 'win', 'news'])}{r.integers(1, 99)}"),
    Trigger("ref-number", lambda r: f"(ref {_digits(r, 4)})"),
]
BY_NAME = {t.name: t for t in FAMILIES}
RATES = (10, 25, 50)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=list(corpora.CORPORA), choices=list(corpora.CORPORA))
    parser.add_argument("--families", nargs="+", default=list(BY_NAME), choices=list(BY_NAME))
    parser.add_argument("--rates", nargs="+", type=int, default=list(RATES))
    parser.add_argument("--rows", type=int, default=2500, help="rows sampled from IMDB and the tweets (seeded)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    import datasets

    datasets.disable_progress_bars()
    names = list(corpora.CORPORA)
    records = []
    for corpus in args.corpora:
        ci = names.index(corpus)
        texts, labels = corpora.CORPORA[corpus](seed=0, **({"rows": args.rows} if corpus in corpora.SAMPLED else {}))
        k = int(labels.max()) + 1
        for family in args.families:
            fi = list(BY_NAME).index(family)
            for rate in args.rates:
                ri = RATES.index(rate) if rate in RATES else 0
                location, label = triggers.LOCATIONS[(ci + fi + ri) % 3], (fi + ri + 1) % k
                seed = 7000 + 100 * ci + 10 * fi + ri
                planted = triggers.inject(texts, labels, BY_NAME[family], rate, location, label, seed)
                result = scan_benchmark.measure("ssti_hf", planted.texts, labels, planted)
                records.append({"corpus": corpus, "family": family, "rate": rate, "location": location, "label": label, "seed": seed} | result)
                print(f"{corpus:7} {family:13} {rate:3}% {location:6} {'HIT ' if result['hit'] else 'miss'} "
                      f"{result['restored']}/{result['injected']} restored, {result['other_changed']} other, {result['seconds']:.2f}s "
                      f"{result['flagged_items'][:2]}", flush=True)
    summary = []
    for rate in args.rates:
        chosen = [r for r in records if r["rate"] == rate]
        share = [r["other_changed"] / r["other_rows"] for r in chosen]
        summary.append({"rate": rate, "cases": len(chosen), "recall": float(np.mean([r["hit"] for r in chosen])),
                        "restored": sum(r["restored"] for r in chosen) / sum(r["injected"] for r in chosen),
                        "other_changed": sum(r["other_changed"] for r in chosen) / sum(r["other_rows"] for r in chosen),
                        "other_changed_max": max(share), "cases_at_half_a_percent_or_more": sum(s >= 0.005 for s in share)})
        s = summary[-1]
        print(f"{rate}%: recall {s['recall']:.1%} ({s['cases']} cases), restored {s['restored']:.1%}, other rows changed "
              f"{s['other_changed']:.3%} (max {s['other_changed_max']:.3%}, {s['cases_at_half_a_percent_or_more']} cases at 0.5% or more)")
    if args.json:
        meta = {"code": scan_benchmark.code_version(), "cases": len(records),
                "command": "python bench/scan_more_families.py " + " ".join(argv or sys.argv[1:])}
        args.json.write_text(json.dumps({"meta": meta, "summary": summary, "cases": records}, indent=1))


if __name__ == "__main__":
    main()
