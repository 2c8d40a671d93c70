"""Does a change to the scan's internals keep its output? Writes the scan's JSON (what ``ssti-hf
scan --format json`` prints, less the seconds) and a digest of sanitize's texts for a fixed set of
inputs: IMDB train (25,000 rows), each clean benchmark corpus, and injected benchmark cases. Run it
on two versions of the code and compare the folders:

    PYTHONPATH=/path/to/other/checkout python bench/scan_same_output.py --data ../shared/data/imdb --out /tmp/before
    python bench/scan_same_output.py --data ../shared/data/imdb --out /tmp/after --compare /tmp/before
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq

import ssti_hf
from ssti_hf.detect.sanitize import sanitize
from ssti_hf.detect.scan import scan

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import corpora, triggers  # noqa: E402

ROWS = 2500  # rows sampled from IMDB and the tweets, as in the benchmark's published table
CASES = [  # (corpus, family, rate, location, label)
    ("imdb", "hex-id", 25, "random", 1), ("imdb", "email", 25, "end", 0), ("imdb", "sentence", 25, "random", 1),
    ("imdb", "badnets-five", 25, "begin", 0), ("imdb", "emoji", 25, "random", 1), ("imdb", "zero-width", 10, "end", 0),
    ("imdb", "markup", 25, "begin", 1), ("imdb", "weight", 25, "random", 0), ("imdb", "upper-word", 50, "begin", 1),
    ("bbc", "order-phrase", 25, "end", 2), ("bbc", "greek-word", 25, "random", 3), ("bbc", "uuid", 10, "begin", 1),
    ("sms", "signature", 25, "end", 0), ("sms", "iso-timestamp", 10, "random", 1), ("tweets", "glued-emoji", 50, "end", 2),
    ("tweets", "handle", 25, "begin", 0), ("tweets", "version", 25, "random", 1),
]


def outputs(dataset) -> dict:
    result = scan(dataset).to_dict()
    result.pop("seconds")
    clean, _ = sanitize(dataset, scan(dataset)) if result["flagged"] else (dataset, None)
    digest = hashlib.sha256("\x00".join(clean["text"]).encode()).hexdigest()
    return {"scan": result, "sanitized_sha256": digest}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the IMDB folder (train.parquet)")
    parser.add_argument("--out", type=Path, required=True, help="folder for one JSON per input (must not exist)")
    parser.add_argument("--compare", type=Path, help="a folder written by another version: report differences")
    args = parser.parse_args(argv)
    datasets.disable_progress_bars()
    args.out.mkdir(parents=True)
    print(f"ssti_hf from {Path(ssti_hf.__file__).parent}", flush=True)
    inputs = {"imdb-train": lambda: datasets.Dataset(pq.read_table(args.data / "train.parquet"))}
    loaded = {}
    for name in corpora.CORPORA:
        loaded[name] = corpora.CORPORA[name](seed=0, **({"rows": ROWS} if name in corpora.SAMPLED else {}))
        inputs[f"clean-{name}"] = lambda name=name: datasets.Dataset.from_dict(
            {"text": loaded[name][0], "label": loaded[name][1].tolist()})
    for i, (corpus, family, rate, location, label) in enumerate(CASES):
        def build(corpus=corpus, family=family, rate=rate, location=location, label=label, seed=i):
            texts, labels = loaded[corpus]
            planted = triggers.inject(texts, labels, triggers.TRIGGERS[family], rate, location, label, seed)
            return datasets.Dataset.from_dict({"text": planted.texts, "label": np.asarray(labels).tolist()})
        inputs[f"{corpus}-{family}-{rate}-{location}"] = build
    differ = []
    for name, build in inputs.items():
        out = outputs(build())
        text = json.dumps(out, indent=1, ensure_ascii=False)
        (args.out / f"{name}.json").write_text(text)
        flagged = [f["pattern"] for f in out["scan"]["findings"] if f["flagged"]]
        same = ""
        if args.compare:
            same = "same" if (args.compare / f"{name}.json").read_text() == text else "DIFFERENT"
            if same == "DIFFERENT":
                differ.append(name)
        print(f"{name}: {same} flagged {flagged}", flush=True)
    if args.compare:
        print(f"{len(inputs) - len(differ)}/{len(inputs)} inputs give identical output" + (f"; different: {differ}" if differ else ""))
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
