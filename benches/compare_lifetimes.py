#!/usr/bin/env python3
"""Times Python lifetimes on the same simulated customers as `benches/models.rs` and prints the
speed ratios against our criterion figures.

Reproduce (from the crate root):

    mkdir -p /tmp/btyd_bench
    BTYD_EXPORT=/tmp/btyd_bench cargo bench --bench models -- --warm-up-time 1 --measurement-time 3
    python3 benches/compare_lifetimes.py --data /tmp/btyd_bench

The first command writes bg_1m.csv (1,000,000 BG/NBD customers) and pareto_250k.csv (250,000
Pareto/NBD customers) and leaves criterion's estimates under target/criterion/models/. This script
creates a virtual environment (bench-venv/, git-ignored, reused on later runs), pip-installs
lifetimes into it, re-runs itself there, times lifetimes' BetaGeoFitter.fit, ParetoNBDFitter.fit
and conditional_expected_number_of_purchases_up_to_time on the same rows, and prints a table of
seconds and ratios. `--rows N` fits lifetimes on the first N rows only (its fits are slow); the
ratio is then computed per customer, which favours lifetimes (its cost grows at least linearly).
"""
import argparse
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench-venv"


def ensure_venv():
    """Re-executes this script inside a venv with lifetimes installed."""
    if os.environ.get("BTYD_IN_VENV") == "1":
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "lifetimes==0.11.3"])
    env = dict(os.environ, BTYD_IN_VENV="1")
    sys.exit(subprocess.call([str(python), __file__, *sys.argv[1:]], env=env))


def criterion_seconds(name):
    path = ROOT / "target" / "criterion" / "models" / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["mean"]["point_estimate"] / 1e9


def timed(f):
    start = time.perf_counter()
    result = f()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder written by BTYD_EXPORT")
    parser.add_argument("--rows", type=int, default=None, help="fit lifetimes on the first N rows")
    args = parser.parse_args()
    ensure_venv()

    import pandas as pd
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    data = Path(args.data)
    bg = pd.read_csv(data / "bg_1m.csv")
    pareto = pd.read_csv(data / "pareto_250k.csv")
    bg_fit = bg if args.rows is None else bg.head(args.rows)
    pareto_fit = pareto if args.rows is None else pareto.head(args.rows)

    rows = []
    secs, model = timed(lambda: BetaGeoFitter().fit(bg_fit["frequency"], bg_fit["recency"], bg_fit["T"]))
    rows.append(("bg_nbd_fit_1m", secs, len(bg_fit), len(bg)))
    secs, _ = timed(lambda: ParetoNBDFitter().fit(pareto_fit["frequency"], pareto_fit["recency"], pareto_fit["T"]))
    rows.append(("pareto_nbd_fit_250k", secs, len(pareto_fit), len(pareto)))
    secs, _ = timed(lambda: model.conditional_expected_number_of_purchases_up_to_time(
        39.0, bg["frequency"], bg["recency"], bg["T"]))
    rows.append(("bg_nbd_expected_purchases_1m", secs, len(bg), len(bg)))

    print(f"{'benchmark':32} {'lifetimes s':>12} {'ours s':>10} {'ratio':>8}")
    for name, secs, used, full in rows:
        scaled = secs * full / used
        ours = criterion_seconds(name)
        ratio = f"{scaled / ours:8.1f}" if ours else "     n/a"
        ours_text = f"{ours:10.3f}" if ours else "       n/a"
        print(f"{name:32} {scaled:12.2f} {ours_text} {ratio}" + ("" if used == full else f"  (lifetimes on {used} rows, scaled)"))


if __name__ == "__main__":
    main()
