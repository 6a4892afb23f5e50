"""Golden values for the BG/NBD, MBG/NBD and Pareto/NBD predictions (tests/it/btyd.rs and the
unit tests of src/models/pareto_nbd.rs), computed with mpmath at 60 significant digits straight
from the papers' formulas (Fader, Hardie & Lee 2005 a, b; Batislam et al. 2007; Schmittlein et
al. 1987 as implemented in Fader & Hardie's notes). Run: python3 scripts/btyd_golden.py
"""
from mpmath import mp, mpf, hyp2f1, hyperu, gamma, loggamma, beta, log, exp, quad, inf

mp.dps = 60
_hyp2f1 = hyp2f1
hyp2f1 = lambda a, b, c, z: _hyp2f1(a, b, c, z, maxterms=10**7)


def pareto_parts(r, alpha, s, b_, x, tx, T):
    """ln L pieces of the Pareto/NBD (Fader & Hardie's MATLAB note, eq. 22-24)."""
    r, alpha, s, b_, tx, T = map(mpf, (r, alpha, s, b_, tx, T))
    n = r + s + x
    if alpha >= b_:
        F = lambda t: hyp2f1(n, s + 1, n + 1, (alpha - b_) / (alpha + t)) / (alpha + t) ** n
    else:
        F = lambda t: hyp2f1(n, r + x, n + 1, (b_ - alpha) / (b_ + t)) / (b_ + t) ** n
    A0 = F(tx) - F(T)
    first = 1 / ((alpha + T) ** (r + x) * (b_ + T) ** s)
    second = s / n * A0
    c = loggamma(r + x) - loggamma(r) + r * log(alpha) + s * log(b_)
    return c, first, second


def pareto(r, alpha, s, b_, x, tx, T, t, delta):
    c, first, second = pareto_parts(r, alpha, s, b_, x, tx, T)
    ll = c + log(first + second)
    p_alive = first / (first + second)
    r, alpha, s, b_, T = map(mpf, (r, alpha, s, b_, T))
    B = b_ + T
    e = p_alive * (r + x) * B / ((alpha + T) * (s - 1)) * (1 - (B / (B + t)) ** (s - 1))
    z = delta * B
    dert = p_alive * (r + x) / (alpha + T) * z ** s * hyperu(s, s, z) / delta
    return ll, p_alive, e, dert


def bg(r, alpha, a, b, x, tx, T, t, delta, offset=0):
    r, alpha, a, b, tx, T = map(mpf, (r, alpha, a, b, tx, T))
    bx = b + x + offset
    if x + offset > 0:
        odds = a / (bx - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    else:
        odds = mpf(0)
    p_alive = 1 / (1 + odds)
    k, A = r + x, alpha + T
    e = p_alive * (a + bx - 1) / (a - 1) * (1 - hyp2f1(k, a - 1, a + bx - 1, -t / A))
    # DERT: integral of e^{-δτ} times the purchase rate (k/A) 2F1(k+1, a; a+b'; -τ/A)
    rate = lambda tau: exp(-delta * tau) * k / A * hyp2f1(k + 1, a, a + bx, -tau / A)
    dert = p_alive * quad(rate, [0, 1, 10, 100, 1000, inf])
    ll = (loggamma(r + x) - loggamma(r) + r * log(alpha) + log(beta(a, bx)) - log(beta(a, b))
          + log((alpha + T) ** (-(r + x)) + (a / (bx - 1) * (alpha + tx) ** (-(r + x)) if x + offset > 0 else 0)))
    return ll, p_alive, e, dert


def show(name, values):
    print(name, ", ".join(mp.nstr(v, 17) for v in values))


print("# hyperu(s, s, z)")
for s, z in [(0.606, 0.0221), (0.606, 3.5), (1.0, 0.5), (1e-6 + 1, 0.2), (2.5, 0.01), (0.2, 50.0), (7.3, 1.7), (0.5, 2.0)]:
    show(f"U({s}, {s}, {z}) =", [hyperu(s, s, z)])

P = (0.553, 10.578, 0.606, 11.669)
BG = (0.243, 4.414, 0.793, 2.426)
MBG = (0.525, 6.183, 0.891, 1.614)
print("# pareto: ll, p_alive, E[Y(52)], DERT(0.0018)")
for x, tx, T in [(221, 103.43, 103.57), (10000, 103.0, 103.57), (26, 30.86, 31.0), (0, 0, 38.86), (2, 30.43, 38.86)]:
    show(f"pareto x={x} tx={tx} T={T}:", pareto(*P, x, tx, T, 52, mpf("0.0018")))
print("# bg: ll, p_alive, E[Y(39)], DERT(0.0018)")
for x, tx, T in [(221, 103.43, 103.57), (2, 30.43, 38.86), (0, 0, 38.86)]:
    show(f"bg x={x} tx={tx} T={T}:", bg(*BG, x, tx, T, 39, mpf("0.0018")))
print("# mbg: ll, p_alive, E[Y(39)], DERT(0.0018)")
for x, tx, T in [(221, 103.43, 103.57), (2, 30.43, 38.86), (0, 0, 38.86)]:
    show(f"mbg x={x} tx={tx} T={T}:", bg(*MBG, x, tx, T, 39, mpf("0.0018"), offset=1))
