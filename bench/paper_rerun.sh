#!/usr/bin/env bash
# The paper's grids on one GPU (run through the device tool; see ../shared/GPU.md), in two steps:
#   bash bench/paper_rerun.sh setup     # install carried wheels, unpack model and data under /root
#   bash bench/paper_rerun.sh start N   # start the sweeps, N processes each (setsid)
#   bash bench/paper_rerun.sh status    # finished runs per grid; the report when all are done
# Sweeps resume, so a lost machine only costs the runs in flight.
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=/root/ssti-results
case "${1:-}" in
setup)
  python3 -m pip install -q --no-deps .gpu/wheels/*.whl
  python3 -m pip install -q --no-deps --no-build-isolation -e .
  mkdir -p /root/minilm /root/imdb
  cp .gpu/minilm/*.json /root/minilm/
  for f in .gpu/minilm/*.xz; do xz -dc "$f" > "/root/minilm/$(basename "${f%.xz}")"; done
  cp .gpu/imdb/*.parquet /root/imdb/
  python3 -c "import torch, transformers, peft, datasets, pyarrow; print(torch.__version__, transformers.__version__, peft.__version__, datasets.__version__, pyarrow.__version__, torch.cuda.get_device_name())"
  ;;
start)
  n=${2:-3}
  mkdir -p "$RESULTS/logs"
  # One background chain; each sweep runs N processes on the GPU (and builds its configs first).
  setsid nohup bash -c "for g in table1 aggressive light; do ssti-hf sweep docs/results/grids/\$g.yaml --model /root/minilm --data /root/imdb --results $RESULTS/\$g --workers $n --no-progress || exit 1; done" > "$RESULTS/logs/sweeps.log" 2>&1 &
  sleep 5; nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
  ;;
status)
  for grid in light aggressive table1; do echo "$grid: $(ls "$RESULTS/$grid/runs" 2>/dev/null | wc -l) runs"; done
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
  tail -n 2 "$RESULTS"/logs/*.log "$RESULTS"/*/logs/*.log | tr '\r' '\n' | grep -v '^$' | tail -n 20
  ;;
report)
  mkdir -p "$OUT"
  for grid in light aggressive table1; do
    ssti-hf report "$RESULTS/$grid" --out "$RESULTS/report/$grid"
  done
  tar -C "$RESULTS" -czf "$OUT/results.tar.gz" light/runs aggressive/runs table1/runs light/grid.json aggressive/grid.json table1/grid.json report
  ls -la "$OUT"
  ;;
*) echo "usage: $0 setup|start N|status|report" >&2; exit 2 ;;
esac
