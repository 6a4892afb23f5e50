"""Golden values for special::near_one (ln 2F1(a, b; a+1; 1 - w) for w < 1/2) and its derivatives
along a (c = a + 1 moving too), b and z = 1 - w, from mpmath at 40 digits.

Each value is computed twice, independently: by quadrature of the Laplace form
F = a * int_0^inf exp(-a s) (1 - z exp(-s))^(-b) ds (derivatives under the integral sign) and by
mpmath's hyp2f1 (derivatives by mpmath.diff); the script stops when they differ beyond 1e-25.
hyp2f1 is skipped where mpmath cannot evaluate it (a in the billions).

    python3 scripts/golden_near_one.py
"""
from mpmath import mp, mpf, hyp2f1, log, diff, quad, exp, inf

mp.dps = 40
# (a, b, w): the continued fraction (a w >= 1) and the split (a w < 1), integer and tiny b,
# heavy buyers (a up to 2^32), b up to 1001 (the shape cap), w down to 1e-15.
CASES = [
    (3.557, 0.057, 7e-5),
    (3.557, 0.057, 0.3),
    (2.557, 1.0, 1e-9),
    (13.14, 1.527, 1.31e-9),
    (8049.0, 2.0, 1.24e-6),
    (35920.0, 5.0, 8.98e-7),
    (100000.5, 3.5, 1e-4),
    (100000.5, 3.5, 1e-7),
    (1000000.2, 2.6, 2e-6),
    (1000000.2, 2.6, 3e-12),
    (297300.0, 0.004352, 0.000311),
    (544500.0, 0.07212, 6.7e-11),
    (1001.6, 1001.0, 1e-6),
    (1002.0, 0.3, 0.02),
    (0.05, 0.3, 1e-15),
    (0.6, 0.55, 0.49),
    (4294967296.5, 2.1, 1e-3),
    (4294967296.5, 2.1, 1e-13),
    (21.35, 3.0, 2.6e-11),
    (5.161, 2.027, 0.0805),
]


def laplace(a, b, z):
    w = 1 - z
    h = lambda s: exp(-a * s) * (1 - z * exp(-s)) ** (-b)
    lnh = lambda s: -log(1 - z * exp(-s))
    pts = {mpf(0), inf}
    for k in range(-3, 6):
        pts.add(w * mpf(10) ** k)
        pts.add(mpf(10) ** k / a)
    pts = sorted(p for p in pts if p >= 0)
    f = a * quad(h, pts)
    fa = quad(h, pts) - a * quad(lambda s: s * h(s), pts)
    fb = a * quad(lambda s: h(s) * lnh(s), pts)
    return log(f), fa / f, fb / f


def direct(a, b, z):
    g = lambda A, B: log(hyp2f1(A, B, A + 1, z, maxterms=10**6))
    return g(a, b), diff(lambda t: g(t, b), a), diff(lambda t: g(a, t), b)


for a, b, w in CASES:
    a, b, w = mpf(a), mpf(b), mpf(w)
    z = 1 - w
    v, da, db = laplace(a, b, z)
    if a < 1e8:
        check = direct(a, b, z)
        for got, want in zip((v, da, db), check):
            assert abs(got - want) <= mpf(10) ** -25 * max(1, abs(want)), (a, b, w, got, want)
    dz = a * (w ** (-b) / exp(v) - 1) / z
    print("(%s, %s, %s, %s, [%s, %s, %s])," % tuple(
        mp.nstr(u, 20) for u in (a, b, w, v, da, db, dz)))
