#!/usr/bin/env bash
# End-to-end benchmark: listaudit's full audit beside the reduced audit (normalise, dedupe,
# classify, write four lists) in Python polars and DuckDB, on the same generated export.
# Paired runs after a warm-up round, medians. Run by hand from the repository root:
#
#   benches/e2e.sh                 # 1M and 10M rows, 3 rounds
#   ROWS="1000000" ROUNDS=5 benches/e2e.sh
#
# Needs python3 with pip (the peers are installed into target/bench-venv) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-"1000000 10000000"}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-target/bench}
mkdir -p "$WORK"

cargo build --release --quiet --bin listaudit --example generate
VENV=target/bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# Pinned, so rounds on different days compare the same peers; a no-op once installed.
"$VENV/bin/pip" install --quiet --disable-pip-version-check "polars==1.44.2" "duckdb==1.5.6"
PY="$VENV/bin/python"

# measure NAME CMD... : appends "name wall user+sys peak_mb" to $WORK/times
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
    echo "$name failed:"; cat "$WORK/stderr.txt"; exit 1; }
  read -r wall user sys peak < "$WORK/time.txt"
  # awk, not bc: bc writes a sum under one as ".95".
  echo "$name $wall $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}') $((peak / 1024))" >> "$WORK/times"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: > "$WORK/rounds.txt"
printf "| rows | tool | wall s | cpu s | peak MB | wall / listaudit |\n| --- | --- | --- | --- | --- | --- |\n" > "$WORK/table.md"
for n in $ROWS; do
  csv="$WORK/export-$n.csv"
  [ -f "$csv" ] || target/release/examples/generate --rows "$n" --seed 7 > "$csv"
  # Round 0 warms up and is not counted. In two of three runs of the script before it, the
  # first large round was slow for the tool that comes first: listaudit took 7.78 s, and
  # 8.87 s (14.8 CPU-s) against 5.55 and 5.67 s in the next two rounds; a profile of the
  # first 10M run of a day, slow too (11 s), spent 42% of its samples in the kernel zeroing
  # fresh pages. A file not in the page
  # cache costs its first reader the disk's time too (1.1 s more for listaudit at 10M rows).
  for round in $(seq 0 "$ROUNDS"); do
    [ "$round" -le 1 ] && : > "$WORK/times"
    rm -rf "$WORK/la" "$WORK/pl" "$WORK/dd"; mkdir -p "$WORK/pl" "$WORK/dd"
    measure listaudit target/release/listaudit audit "$csv" --out "$WORK/la" --as-of 2026-12-01 --quiet --max-delete 100
    measure python-polars "$PY" benches/peers/reduced_polars.py "$csv" "$WORK/pl"
    measure duckdb "$PY" benches/peers/reduced_duckdb.py "$csv" "$WORK/dd"
    # The peers must agree with each other, list by list.
    for list in keep repermission no-marketing delete; do
      cmp -s "$WORK/pl/$list.csv" "$WORK/dd/$list.csv" || { echo "peers disagree on $list.csv at $n rows"; exit 1; }
    done
  done
  base=$(awk '$1=="listaudit" {print $2}' "$WORK/times" | median)
  for tool in listaudit python-polars duckdb; do
    wall=$(awk -v t=$tool '$1==t {print $2}' "$WORK/times" | median)
    cpu=$(awk -v t=$tool '$1==t {print $3}' "$WORK/times" | median)
    peak=$(awk -v t=$tool '$1==t {print $4}' "$WORK/times" | median)
    ratio=$(awk -v w="$wall" -v b="$base" 'BEGIN {printf "%.2f", w / b}')
    echo "| $n | $tool | $wall | $cpu | $peak | $ratio |" >> "$WORK/table.md"
  done
  # Each round's own ratios too: a median of each tool's times can pair rounds that were not
  # run together, and these machines move 20-35% between rounds.
  awk -v n="$n" '$1=="listaudit" {base=$2}
    $1!="listaudit" {by[$1]=by[$1] sprintf(" %.2f", $2 / base)}
    END {for (t in by) printf "%s rows, %s / listaudit by round:%s\n", n, t, by[t]}' \
    "$WORK/times" | sort >> "$WORK/rounds.txt"
done
cat "$WORK/table.md"
echo
cat "$WORK/rounds.txt"
