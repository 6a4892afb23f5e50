#!/usr/bin/env python3
"""Times `clv fit --model bg-nbd` against pandas + lifetimes on the same summary CSV of one million
customers, end to end: reading the file and fitting.

Reproduce (from the workspace root):

    cargo build --release -p customer-assets-cli
    python3 benches/compare_clv_fit.py [--customers 1000000] [--repeat 3]

The summary (`customer_id,frequency,recency,T`, weeks) is simulated here with numpy from the
BG/NBD process at the CDNOW parameters (r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, T uniform
on [27, 39] weeks, seed 7), written once to target/clv_fit_bench/, and reused. Each side runs
`--repeat` times in this one session, alternating; the table gives every time and the ratio of
the medians. lifetimes 0.11.3 and pandas must be importable (pip install lifetimes pandas).
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def simulate(path: Path, customers: int, seed: int = 7) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    lam = rng.gamma(r, 1.0 / alpha, customers)
    p = rng.beta(a, b, customers)
    age = rng.uniform(27.0, 39.0, customers)
    t = np.zeros(customers)
    x = np.zeros(customers, dtype=np.int64)
    tx = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        nxt = t[idx] + rng.exponential(1.0, idx.size) / lam[idx]
        inside = nxt <= age[idx]
        bought = idx[inside]
        t[bought] = nxt[inside]
        x[bought] += 1
        tx[bought] = nxt[inside]
        active[idx[~inside]] = False
        # After each repeat purchase the customer drops out with probability p.
        drop = rng.random(bought.size) < p[bought]
        active[bought[drop]] = False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        f.write("customer_id,frequency,recency,T\n")
        for i in range(customers):
            f.write(f"{i},{x[i]},{tx[i]:.6f},{age[i]:.6f}\n")


def time_clv(clv: Path, csv: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(clv), "fit", "--summary", str(csv), "--model", "bg-nbd"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def time_lifetimes(csv: Path) -> tuple[float, dict]:
    import pandas as pd
    from lifetimes import BetaGeoFitter

    start = time.perf_counter()
    frame = pd.read_csv(csv)
    model = BetaGeoFitter(penalizer_coef=0.0)
    model.fit(frame["frequency"], frame["recency"], frame["T"])
    elapsed = time.perf_counter() - start
    return elapsed, dict(model.params_)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clv", default=str(ROOT / "target" / "release" / "clv"))
    args = ap.parse_args()
    csv = ROOT / "target" / "clv_fit_bench" / f"bg_{args.customers}.csv"
    if not csv.exists():
        print(f"simulating {args.customers:,} customers into {csv}", flush=True)
        simulate(csv, args.customers)
    clv = Path(args.clv)
    if not clv.exists():
        print(f"{clv} is missing: cargo build --release -p customer-assets-cli", file=sys.stderr)
        return 1
    ours, theirs, params = [], [], None
    for _ in range(args.repeat):
        ours.append(time_clv(clv, csv))
        seconds, params = time_lifetimes(csv)
        theirs.append(seconds)
    print(f"lifetimes parameters: {params}")
    print(f"clv fit (read + fit): {', '.join(f'{s:.3f}' for s in ours)} s")
    print(f"pandas read_csv + lifetimes fit: {', '.join(f'{s:.2f}' for s in theirs)} s")
    ratio = statistics.median(theirs) / statistics.median(ours)
    print(f"ratio of medians: {ratio:.1f}x (best against best: {min(theirs) / min(ours):.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
