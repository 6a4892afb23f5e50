#!/usr/bin/env python3
"""Time the DataFusion summary of a Parquet log against pandas read_parquet + lifetimes.

The log is the one of `cargo bench -p customer-assets-datafusion --bench parquet_summaries`
(10 million transactions in four Parquet files, rows in date order, timestamps and float
amounts), written by the Rust example on first use. Usage (from the workspace root):

    python3 -m venv /tmp/venv-lifetimes && /tmp/venv-lifetimes/bin/pip install lifetimes pandas pyarrow
    /tmp/venv-lifetimes/bin/python datafusion/benches/compare_parquet.py [--rows 10000000] [--repeat 3]

In one run it times, on this machine:
  1. `summary_memory summaries` (release): DataFusion reads the folder and each partition of its
     plan feeds the core's accumulator (`customer_assets_datafusion::summaries`, in memory);
     and `summary_memory datafusion`: the same summary as the engine's SQL
     (`customer_assets_datafusion::summarize`, the row checks included, streaming the result);
  2. pandas `read_parquet` of the same folder + lifetimes `summary_data_from_transaction_data`
     (daily periods, weeks as the unit, the same as-of date).
The ratios are lifetimes' total over each of our best wall times.
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    args = ap.parse_args()

    env = dict(os.environ, CARGO_TARGET_DIR=args.target_dir)
    subprocess.run(
        ["cargo", "build", "--release", "-p", "customer-assets-datafusion", "--example", "summary_memory"],
        check=True, cwd=ROOT, env=env,
    )
    exe = os.path.join(args.target_dir, "release", "examples", "summary_memory")
    modes = ["summaries", "datafusion"]
    ours = {mode: [] for mode in modes}
    counts = set()
    for _ in range(args.repeat):
        for mode in modes:
            out = subprocess.run([exe, mode, str(args.rows)], check=True, cwd=ROOT, env=env,
                                 capture_output=True, text=True).stdout
            print(out.strip())
            ours[mode].append(float(re.search(r"seconds=([0-9.]+)", out).group(1)))
            counts.add(int(re.search(r"customers=(\d+)", out).group(1)))
    if len(counts) != 1:
        print(f"the modes' customer counts differ: {counts}", file=sys.stderr)
        return 1
    customers = counts.pop()

    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    folder = os.environ.get("PARQUET_BENCH_DIR", os.path.join(ROOT, "target", "parquet_bench"))
    folder = os.path.join(folder, f"transactions_{args.rows}")
    t = time.perf_counter()
    df = pd.read_parquet(folder)
    read = time.perf_counter() - t
    t = time.perf_counter()
    summary = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount",
        observation_period_end="2024-06-30", freq="D", freq_multiplier=7,
    )
    summarise = time.perf_counter() - t
    theirs = read + summarise
    print(f"pandas read_parquet {read:.2f} s + lifetimes {summarise:.2f} s = {theirs:.2f} s "
          f"({len(summary)} customers)")
    for mode in modes:
        best = min(ours[mode])
        print(f"{mode}: best {best:.3f} s of {args.repeat} ({customers} customers): "
              f"{theirs / best:.1f}x")
    if len(summary) != customers:
        print("the customer counts differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
