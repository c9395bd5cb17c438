#!/usr/bin/env bash
# Full-scale generator measurement: `predbench generate` at ROWS rows (default
# 60,000,000) against the disk's own write speed for the same number of bytes
# (dd with fsync, the physical floor), run back to back in one session.
# Raw logs go to results/<date>-generate-<rows>/; the data is deleted after.
#   scripts/measure-generate.sh [ROWS] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-60000000}
data_dir=${2:-data}
out="results/$(date +%Y-%m-%d)-generate-${rows}"
mkdir -p "$out" "$data_dir"
cargo build --release -p predbench >/dev/null 2>&1
bin=target/release/predbench

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse HEAD)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  echo "cores: $(nproc)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "disk: $(df -h "$data_dir" | awk 'NR==2 {print $1 " " $2 " total, " $4 " free"}')"
} > "$out/machine.txt"

rm -rf "$data_dir/generated"
/usr/bin/time -v "$bin" generate --out "$data_dir/generated" --rows "$rows" \
  > "$out/generate.stdout" 2> "$out/generate.time"
bytes=$(du -sb "$data_dir/generated" | cut -f1)
rm -rf "$data_dir/generated"

# The floor: the same bytes written by dd from /dev/zero, synced.
blocks=$(( bytes / (8 * 1024 * 1024) + 1 ))
/usr/bin/time -v dd if=/dev/zero of="$data_dir/dd-floor" bs=8M count="$blocks" conv=fsync \
  > "$out/dd.stdout" 2> "$out/dd.time"
rm -f "$data_dir/dd-floor"

wall() { awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); if (length(t) == 3) print t[1]*3600 + t[2]*60 + t[3]; else print t[1]*60 + t[2]}' "$1"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
generate_seconds=$(wall "$out/generate.time")
dd_seconds=$(wall "$out/dd.time")
{
  echo "rows: $rows"
  echo "bytes: $bytes"
  echo "generate_seconds: $generate_seconds"
  echo "generate_peak_rss_kib: $(rss "$out/generate.time")"
  echo "dd_seconds: $dd_seconds"
  echo "ratio_to_disk_floor: $(echo "$generate_seconds / $dd_seconds" | bc -l | cut -c1-5)"
} | tee "$out/summary.txt"
