"""Golden Pareto/NBD log-likelihoods for tests/it/degenerate_fits.rs: the first 399 customers of
tests/data/cdnow_summary.csv plus one heavy buyer (x repeat purchases at t_x = 30, T = 38 weeks),
at given (r, alpha, s, beta) per week, by mpmath quadrature at 30 digits (independent of any 2F1:
s/(r+s+x) A0 = s * int_{t_x}^{T} (alpha + u)^-(r+x) (beta + u)^-(s+1) du).

    python3 scripts/golden_heavy_buyer.py
"""
import csv
from collections import Counter
from pathlib import Path

import mpmath as mp

mp.mp.dps = 30
ROOT = Path(__file__).resolve().parent.parent
# (x of the heavy buyer, (r, alpha, s, beta)): Pareto/NBD's estimate at x = 1e5, and the point
# on the s -> infinity ridge its fit reaches at x = 1e6.
CASES = [
    (100_000, (0.052375729667327876, 0.006235765621532399, 1.922764019556196, 118.85915886646846)),
    (1_000_000, (0.039255646106262705, 0.0004707625439584543, 909.9150396051717, 66271.39666910036)),
]


def base(x_heavy):
    rows = []
    with open(ROOT / "tests/data/cdnow_summary.csv") as f:
        reader = csv.reader(f)
        next(reader)
        for i, line in enumerate(reader):
            if i >= 399:
                break
            rows.append((int(line[1]), float(line[2]), float(line[3])))
    rows.append((x_heavy, 30.0, 38.0))
    return Counter(rows)


def log_likelihood(rows, r, a, s, b):
    r, a, s, b = (mp.mpf(v) for v in (r, a, s, b))
    total = mp.mpf(0)
    for (x, tx, t), w in rows.items():
        x, tx, t = mp.mpf(x), mp.mpf(tx), mp.mpf(t)
        tail = 0
        if tx < t:
            g = lambda u: (a + u) ** (-(r + x)) * (b + u) ** (-(s + 1))
            # Breakpoints where the integrand turns: near t_x at the scales of alpha and 1/(r+x).
            pts = {tx, t}
            for k in range(-3, 8):
                pts.add(tx + (a + tx) * mp.mpf(10) ** k / (r + x))
                pts.add(tx + (a + tx) * mp.mpf(10) ** k)
            tail = s * mp.quad(g, sorted(p for p in pts if tx <= p <= t))
        head = 1 / ((a + t) ** (r + x) * (b + t) ** s)
        total += w * (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(a) + s * mp.log(b)
                      + mp.log(head + tail))
    return total


for x, params in CASES:
    print(x, params, mp.nstr(log_likelihood(base(x), *params), 22))
