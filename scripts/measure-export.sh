#!/usr/bin/env bash
# Export measurement: every strategy and grouping at ROWS rows (default
# 6,000,000, a tenth of the seed's volume) into the Parquet sink, each under
# /usr/bin/time -v, then `predbench verify` on one output. Raw logs go to
# results/<date>-export-<rows>/; generated data and outputs are deleted after.
#   scripts/measure-export.sh [ROWS] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-6000000}
data_dir=${2:-data}
out="results/$(date +%Y-%m-%d)-export-${rows}"
mkdir -p "$out" "$data_dir"
cargo build --release -p predbench >/dev/null 2>&1
bin=target/release/predbench
dataset="$data_dir/export-input-$rows"
rm -rf "$dataset"
"$bin" generate --out "$dataset" --rows "$rows" --quiet

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse HEAD)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  echo "cores: $(nproc)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "input: $rows rows, $(du -sb "$dataset" | cut -f1) bytes"
} > "$out/machine.txt"

wall() { awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); if (length(t) == 3) print t[1]*3600 + t[2]*60 + t[3]; else print t[1]*60 + t[2]}' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
printf "%-14s %-11s %-8s %9s %14s %12s\n" strategy grouping sink seconds peak_rss_kib output_bytes | tee "$out/summary.txt"
for grouping in modulo contiguous; do
  for strategy in single-thread rayon window-sort; do
    for sink in parquet null; do
      name="$strategy-$grouping-$sink"
      target="$data_dir/$name.parquet"
      spec=$([ "$sink" = null ] && echo null || echo "parquet:$target")
      /usr/bin/time -v "$bin" export --input "$dataset" --strategy "$strategy" --grouping "$grouping" \
        --sink "$spec" --memory-budget 1GB --spill-dir "$data_dir" --quiet \
        > "$out/$name.stdout" 2> "$out/$name.time" || echo "FAILED: $name" >> "$out/summary.txt"
      bytes=$([ -f "$target" ] && stat -c %s "$target" || echo 0)
      if [ "$name" = "rayon-modulo-parquet" ]; then
        "$bin" verify --input "$dataset" --messages "$target" > "$out/verify-rayon-modulo.txt" 2>&1 || true
      fi
      rm -f "$target"
      printf "%-14s %-11s %-8s %9s %14s %12s\n" "$strategy" "$grouping" "$sink" \
        "$(wall "$out/$name.time")" "$(rss "$out/$name.time")" "$bytes" | tee -a "$out/summary.txt"
    done
  done
done
rm -rf "$dataset"
