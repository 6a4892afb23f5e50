"""Golden values for special::ln_hyp2f1_a_plus_one_grad: ln 2F1(a, b; a+1; z) and its
derivatives along a (c = a + 1 moving too), b and z, from mpmath at 50 digits.

    python3 scripts/golden_a_plus_one.py
"""
from mpmath import mp, mpf, hyp2f1, log, diff

mp.dps = 50
CASES = [
    (1.159, 0.553, 0.09),
    (1.159, 1.606, 0.0234),
    (3.159, 2.553, 0.3),
    (3.159, 1.606, -0.4),
    (222.159, 221.553, 0.0095),
    (222.159, 1.606, 0.45),
    (10001.159, 0.3, -0.5),
    (10001.159, 10000.553, 0.024),
    (0.05, 0.3, 0.5),
    (50.5, 25.25, -1e-6),
]


def f(a, b, z):
    return log(hyp2f1(a, b, a + 1, z))


for a, b, z in CASES:
    a, b, z = mpf(a), mpf(b), mpf(z)
    v = f(a, b, z)
    da = diff(lambda t: f(t, b, z), a)
    db = diff(lambda t: f(a, t, z), b)
    dz = diff(lambda t: f(a, b, t), z)
    print("(%s, %s, %s, %s, [%s, %s, %s])," % tuple(
        mp.nstr(u, 20) for u in (a, b, z, v, da, db, dz)))
