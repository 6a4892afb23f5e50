"""Golden values for the BG/NBD and MBG/NBD DERT (tests/it/dert.rs), from mpmath at 50 digits.

DERT = P(alive) · D(k, a, b', z) with k = r + x, b' = b + x (+1 for MBG/NBD), z = δ(α + T) and
D = E[Λ/(z + pΛ)], Λ ~ gamma(k, 1), p ~ beta(a, b'). D is summed from its Mellin–Barnes residue
series (three entire series in z, z^(a−1) and z^k), at 120 digits so that the cancellation near
integer a or k costs nothing visible, and checked against the Laplace-transform integral
k ∫ e^(−zs) ₂F₁(k+1, a; a+b'; −s) ds (mpmath quad) to 25 digits where that integral is cheap.

    python3 scripts/dert_golden.py
"""
import sys

from mpmath import mp, mpf, gamma, hyp1f1, hyp2f2, hyp2f1, quad, inf, exp, nstr, fabs

WORK_DPS = 120
mp.dps = WORK_DPS


def d_series(k, a, b, z):
    """The residue series at rising precision until two agree to 40 digits (for large z they
    cancel like e^z, which 120 digits do not always absorb)."""
    last = None
    for dps in (120, 240, 480, 960, 1920):
        with mp.workdps(dps):
            v = d_series_at(mpf(k), mpf(a), mpf(b), mpf(z))
        if last is not None and fabs(v / last - 1) < mpf(10) ** -40:
            return v
        last = v
    raise ArithmeticError(f"residue series did not settle: {k} {a} {b} {z}")


def d_series_at(k, a, b, z):
    # At an integer k (or a) the residue series merge into logarithmic ones; D is analytic in
    # both, so a shift of 1e-45 moves it by far less than the 20 digits printed, and the
    # 1/shift cancellation leaves 75 of the 120 working digits.
    if a == int(a):
        a += mpf(10) ** -45
    if k == int(k) or k - a == int(k - a):
        k += mp.sqrt(2) * mpf(10) ** -45
    t1 = (a + b - 1) / (a - 1) * hyp2f2(1, 2 - a - b, 1 - k, 2 - a, z, maxterms=10**7)
    t2 = (gamma(1 - a) * gamma(a + b) / gamma(b) * gamma(k + 1 - a) / gamma(k)
          * z ** (a - 1) * hyp1f1(1 - b, a - k, z, maxterms=10**7))
    t3 = (-gamma(1 - k) * gamma(a + b) / gamma(a) * gamma(a - k - 1) / gamma(a + b - k - 1)
          * z ** k * hyp1f1(2 + k - a - b, 2 + k - a, z, maxterms=10**7))
    return t1 + t2 + t3


def d_quad(k, a, b, z):
    with mp.workdps(30):
        f = lambda s: exp(-z * s) * hyp2f1(k + 1, a, a + b, -s)
        return k * quad(f, [0, mpf(1) / 10, 1, 10, 100, 1000, inf])


def dert(r, alpha, a, b, offset, x, tx, T, delta, check):
    r, alpha, a, b, tx, T, delta = map(mpf, (r, alpha, a, b, tx, T, delta))
    bx = b + x + offset
    k = r + x
    if x + offset > 0:
        odds = a / (bx - 1) * ((alpha + T) / (alpha + tx)) ** k
    else:
        odds = mpf(0)
    p_alive = 1 / (1 + odds)
    z = delta * (alpha + T)
    d = d_series(k, a, bx, z)
    if check:
        q = d_quad(k, a, bx, z)
        assert fabs(q / d - 1) < mpf(10) ** -25, (k, a, bx, z, d, q)
    return p_alive * d


# (name, r, alpha, a, b, offset); "bg integer r" and "bg near 1" take the integral (the closed
# form's coefficients do not exist at an integer k = r + x, and cancel 1/(a − 1) near a = 1)
MODELS = [
    ("bg cdnow", 0.243, 4.414, 0.793, 2.426, 0),
    ("mbg cdnow", 0.525, 6.183, 0.891, 1.614, 1),
    ("bg a>1", 2.1, 30.0, 3.7, 12.5, 0),
    ("bg small a", 0.05, 0.8, 0.07, 0.4, 0),
    ("bg near 1", 0.7, 12.0, 1.0004, 3.2, 0),
    ("mbg large", 900.3, 70.0, 800.7, 950.2, 1),
    ("bg integer r", 1.0, 5.0, 0.6, 2.0, 0),
]
# (x, t_x, T) in weeks, light to heavy
# (x, t_x, T) in weeks, light to heavy; the heavy buyers bought just before T (P(alive) ~ 0.6)
CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (221, 103.43, 103.57), (10000, 103.565, 103.57),
             (100000, 103.5695, 103.57)]
# δ per week: 10% a year (0.0018), a daily-unit rate in weeks (0.00026 × 7 is 0.0018 again, so
# 0.0002 stands for a slow one) and a steep 0.35
RATES = [0.0002, 0.0018, 0.35]

ONLY = sys.argv[1:]  # model names to run (all when empty)
for name, r, alpha, a, b, offset in MODELS:
    if ONLY and name not in ONLY:
        continue
    for x, tx, T in CUSTOMERS:
        # at k ~ 1e3 and beyond the 25-digit integral check takes hours: light buyers only
        if name == "mbg large" and x > 221:
            continue
        for delta in RATES:
            # mpmath's ₂F₁ gives up inside the integral at k ~ 1e3 (hypercomb at 4004 bits)
            check = x <= 221 if name != "mbg large" else x <= 2
            v = dert(r, alpha, a, b, offset, x, tx, T, delta, check)
            print(f"({r}, {alpha}, {a}, {b}, {offset}, {x}, {tx}, {T}, {delta}, {nstr(v, 20)}),")
