"""Injection speed on IMDB train (25k rows): ssti_hf against the authors' ``spurious_corr``.

Three cases, as in issue 2: light (1 date, 50% of class 1), aggressive (10% of words, 50% of
class 1), triggered (1 date into every row). Each is timed ``--repeats`` times, interleaved with
the peer when ``--peer`` points at a checkout of the authors' code (the folder that contains the
``spurious_corr`` package; it is not shipped with this project). The machine is shared, so the
table shows the best and the median of the repeats; the ratio uses the best of each.

    python bench/bench_inject.py --data ../shared/data/imdb/train.parquet [--peer DIR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import datasets
import pyarrow.parquet as pq

from ssti_hf import ItemInjection, get_source, spurious_transform, triggered_transform

# What issue 2 quotes for spurious_corr on this machine kind (2 cores), for when --peer is absent.
QUOTED_PEER_SECONDS = {"light": 0.88, "aggressive": 0.97, "triggered": 1.99}
CASES = {"light": (1, 0.0, False), "aggressive": (0.1, 0.1, False), "triggered": (1, 0.0, True)}


def run_ours(dataset, case):
    amount, _, triggered = CASES[case]
    modifier = ItemInjection(get_source("date", seed=0), location="random", amount=amount, seed=0)
    if triggered:
        return triggered_transform(dataset, modifier)
    return spurious_transform(dataset, modifier, label=1, proportion=0.5, seed=0)


def run_peer(dataset, case, peer):
    _, token_proportion, triggered = CASES[case]
    generator = peer.SpuriousDateGenerator(seed=0)  # built outside the timed part, like our source
    modifier = peer.ItemInjection.from_function(generator, location="random", token_proportion=token_proportion, seed=0)

    def timed():
        out = dataset
        for label in (0, 1) if triggered else (1,):
            out = peer.spurious_transform(label, out, modifier, 1.0 if triggered else 0.5, seed=0)
        return out

    return timed


def best_and_median(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/imdb/train.parquet", help="IMDB train parquet")
    parser.add_argument("--peer", help="folder containing the authors' spurious_corr package")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    datasets.disable_progress_bars()
    datasets.disable_caching()  # time the work, not a cache hit
    dataset = datasets.Dataset(pq.read_table(args.data))
    peer = None
    if args.peer:
        sys.path.insert(0, args.peer)
        import spurious_corr as peer

    print(f"rows: {len(dataset)}  repeats: {args.repeats}  (seconds, best / median)")
    print(f"{'case':<11} {'ssti_hf':>17} {'spurious_corr':>17} {'ratio':>6}")
    for case in CASES:
        ours = best_and_median(lambda: run_ours(dataset, case), args.repeats)
        if peer is not None:
            theirs = best_and_median(run_peer(dataset, case, peer), args.repeats)
            peer_text = f"{theirs[0]:7.3f} / {theirs[1]:7.3f}"
        else:
            theirs = (QUOTED_PEER_SECONDS[case], None)
            peer_text = f"{theirs[0]:7.3f} (quoted)"
        print(f"{case:<11} {ours[0]:7.3f} / {ours[1]:7.3f} {peer_text:>17} {ours[0] / theirs[0]:6.2f}")


if __name__ == "__main__":
    main()
