#!/usr/bin/env bash
# Issue 19's re-run on one GPU through the device tool, in calls of at most 10 minutes:
#   bash bench/science_v2.sh SECONDS GRID [GRID ...]
# run from the code's folder, .gpu/code, beside what the call carries in .gpu/ (wheels, the MiniLM
# transport copy with xz shards, IMDB as xz JSON lines, results.tar.gz of earlier calls; .gpu/code is
# `git archive HEAD`, or on the machine a copy of the clean checkout with the commit written into
# ssti_hf/_commit.py's ARCHIVED, which keeps the carried tree under 64 MiB). It sets
# the machine up once (a warm machine keeps /root), then sweeps the grids (docs/results/grids/
# GRID.yaml) in order into /root/science-v2/GRID until SECONDS have passed since it started
# (sweeps resume: a group cut off is trained again by the next call), and packs every grid's
# runs into $OUT/results.tar.gz, with the time each sweep took in $OUT/timing.tsv.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
budget=$1
shift
GPU=$(cd .. && pwd)
RESULTS=/root/science-v2
mkdir -p "$OUT"

if [ ! -f /root/minilm/config.json ]; then
  python3 -m pip install -q --no-deps "$GPU"/wheels/*.whl
  mkdir -p /root/minilm /root/imdb
  for f in "$GPU"/minilm/*; do
    case $f in *.xz) xz -dc "$f" > "/root/minilm/$(basename "${f%.xz}")" ;; *) cp "$f" /root/minilm/ ;; esac
  done
  python3 - "$GPU/imdb" <<'EOF'
import json, lzma, sys
import pyarrow as pa, pyarrow.parquet as pq
folder = sys.argv[1]
meta = json.load(open(f"{folder}/schema.json"))  # the parquet files' own schema metadata, kept
for split in ("train", "test"):
    rows = [json.loads(line) for line in lzma.open(f"{folder}/imdb-{split}.jsonl.xz", "rt")]
    table = pa.table({"text": [r["text"] for r in rows], "label": pa.array([r["label"] for r in rows], pa.int64())})
    pq.write_table(table.replace_schema_metadata(meta), f"/root/imdb/{split}.parquet", compression="zstd")
EOF
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v "^WARNING" | tail -n 3
if [ ! -d "$RESULTS" ] && [ -f "$GPU/results.tar.gz" ]; then  # a fresh machine: the runs of earlier calls
  mkdir -p "$RESULTS" && tar -xzf "$GPU/results.tar.gz" -C "$RESULTS"
fi
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(), flush=True)"
echo "setup took $(( $(date +%s) - start )) s"

for grid in "$@"; do
  left=$(( budget - ($(date +%s) - start) ))
  if [ "$left" -lt 60 ]; then echo "no time left for $grid"; break; fi
  before=$(ls "$RESULTS/$grid/runs" 2>/dev/null | wc -l)
  t0=$(date +%s.%N)
  timeout --signal=INT -k 20 "$left" ssti-hf sweep "docs/results/grids/$grid.yaml" --model /root/minilm --data /root/imdb --results "$RESULTS/$grid" --no-progress \
    > "$OUT/$grid.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  after=$(ls "$RESULTS/$grid/runs" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$grid" "$rc" "$before" "$after" "$(awk "BEGIN {print $t1 - $t0}")" \
    "$(nvidia-smi --query-gpu=name --format=csv,noheader)" | tee -a "$OUT/timing.tsv"
  tail -n 3 "$OUT/$grid.log"
done
cd "$RESULTS" && tar -czf "$OUT/results.tar.gz" --exclude=adapters .
ls -la "$OUT"
