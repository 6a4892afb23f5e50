#!/usr/bin/env python3
"""Compare `clv summarize` with pandas + lifetimes on the same 7-million-row transaction log.

Reproducible: the log is generated from a fixed seed. Usage (from the crate root):

    python3 -m venv /tmp/venv-lifetimes && /tmp/venv-lifetimes/bin/pip install lifetimes pandas numpy
    /tmp/venv-lifetimes/bin/python benches/compare_summarize.py [--rows 7000000] [--csv /tmp/log.csv]

With --in-memory-only it times only step 1 below, on the CSV given (for the log of
`cargo bench --bench summaries`, written with SUMMARIES_BENCH_CSV=PATH). Otherwise it times, on
this machine:
  1. lifetimes' summary_data_from_transaction_data on a DataFrame already in memory
     (the in-memory step that `cargo bench --bench summaries` measures for our accumulator);
  2. end to end: pandas read_csv + lifetimes' summary + to_csv, versus
     `target/release/clv summarize` (built with
     `cargo build --release -p customer-assets-cli`: every core parses and summarises).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def make_log(path, rows, seed=7):
    """Customers grouped, dates in 2023-2024, amounts with cents: a typical retail export."""
    rng = np.random.default_rng(seed)
    customers = rows // 9
    per = rng.poisson(8, customers) + 1
    per = per[np.cumsum(per) <= rows]
    ids = np.repeat(np.arange(1, len(per) + 1), per)
    n = len(ids)
    first = rng.integers(0, 180, len(per))
    offsets = np.repeat(first, per) + rng.integers(0, 550, n)
    dates = (np.datetime64("2023-01-01") + offsets.astype("timedelta64[D]")).astype(str)
    amounts = np.round(rng.gamma(6.0, 4.0, n), 2)
    pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts}).to_csv(
        path, index=False, float_format="%.2f"
    )
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=7_000_000)
    ap.add_argument("--csv", default="/tmp/compare_summarize_log.csv")
    ap.add_argument("--end", default="2024-06-30")
    ap.add_argument(
        "--in-memory-only", action="store_true",
        help="time only lifetimes' summary on the CSV already in memory (e.g. the log "
        "`SUMMARIES_BENCH_CSV=PATH cargo bench --bench summaries` writes, with --end 2024-12-31)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="in-memory timings to take")
    ap.add_argument(
        "--date-ordered", action="store_true",
        help="with --in-memory-only: sort the rows by date first (stable), as the bench's "
        "`_date_ordered` variants sort the same transactions",
    )
    args = ap.parse_args()
    from lifetimes.utils import summary_data_from_transaction_data

    if not os.path.exists(args.csv):
        n = make_log(args.csv, args.rows)
        print(f"wrote {n} rows to {args.csv}")

    if args.in_memory_only:
        df = pd.read_csv(args.csv)
        if args.date_ordered:
            df = df.sort_values("date", kind="stable", ignore_index=True)
        for _ in range(args.repeat):
            t = time.perf_counter()
            summary = summary_data_from_transaction_data(
                df, "customer_id", "date", monetary_value_col="amount",
                observation_period_end=args.end, freq="D", freq_multiplier=7,
            )
            took = time.perf_counter() - t
            order = "date-ordered" if args.date_ordered else "as written"
            print(f"lifetimes in memory ({len(df)} rows {order}, {len(summary)} customers): {took:.2f} s")
        return 0

    clv = os.path.join("target", "release", "clv")
    subprocess.run(
        ["cargo", "build", "--release", "-p", "customer-assets-cli"], check=True
    )
    t = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run(
            [clv, "summarize", "--transactions", args.csv, "--end", args.end, "--unit", "weeks"],
            check=True, stdout=sink,
        )
    ours = time.perf_counter() - t
    print(f"clv summarize end to end: {ours:.2f} s")

    t = time.perf_counter()
    df = pd.read_csv(args.csv)
    read = time.perf_counter() - t
    t = time.perf_counter()
    summary = summary_data_from_transaction_data(
        df, "customer_id", "date", monetary_value_col="amount",
        observation_period_end=args.end, freq="D", freq_multiplier=7,
    )
    summarise = time.perf_counter() - t
    t = time.perf_counter()
    summary.to_csv(os.devnull)
    write = time.perf_counter() - t
    theirs = read + summarise + write
    print(f"lifetimes in memory (summary_data_from_transaction_data on {len(df)} rows): {summarise:.2f} s")
    print(f"pandas read_csv {read:.2f} s + lifetimes {summarise:.2f} s + to_csv {write:.2f} s = {theirs:.2f} s")
    print(f"end-to-end ratio: {theirs / ours:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
