"""Golden values for the GGompertz/NBD model (src/models/ggompertz_nbd/tests.rs), computed with
mpmath at 40 significant digits straight from the model's definition (Bemmaor & Glady 2012):
S(t) = (beta / (beta + e^(bt) - 1))^s, f = -S', and

  L = Gamma(r+x)/Gamma(r) alpha^r [ (alpha+T)^-(r+x) S(T) + int_{t_x}^T (alpha+tau)^-(r+x) f(tau) dtau ],

the integral over the death time taken by mpmath's tanh-sinh quadrature in the original variable
tau (not the Rust code's substitution). Predictions for a customer alive at T: purchase rate
gamma(r+x, alpha+T), remaining survival S(T+u)/S(T). Also checks in mpmath that the purchase
probabilities add up to 1 and their mean is the expected number of purchases.
Run: python3 scripts/ggompertz_golden.py
"""
from mpmath import mp, mpf, exp, log, loggamma, quad, inf, expm1

mp.dps = 40


def model(r, alpha, b, s, beta):
    r, alpha, b, s, beta = map(mpf, (r, alpha, b, s, beta))

    def S(t):
        return (beta / (beta + expm1(b * t))) ** s

    def f(t):
        return s * beta ** s * b * exp(b * t) * (beta + expm1(b * t)) ** (-s - 1)

    def parts(x, tx, T):
        tx, T = mpf(tx), mpf(T)
        k = r + x
        alive = (alpha + T) ** (-k) * S(T)
        dead = quad(lambda tau: (alpha + tau) ** (-k) * f(tau), [tx, (tx + T) / 2, T]) if tx < T else mpf(0)
        c = loggamma(k) - loggamma(r) + r * log(alpha)
        return c, alive, dead

    def ll(x, tx, T):
        c, a, d = parts(x, tx, T)
        return c + log(a + d)

    def p_alive(x, tx, T, t=0):
        _, a, d = parts(x, tx, T)
        return a / (a + d) * S(mpf(T) + t) / S(T)

    def expected(x, tx, T, t):
        T = mpf(T)
        return p_alive(x, tx, T) * (r + x) / (alpha + T) * quad(lambda u: S(T + u) / S(T), [0, t])

    def nbd(n, k, a, u):
        if u == 0:
            return mpf(1) if n == 0 else mpf(0)
        return exp(loggamma(k + n) - loggamma(k) - loggamma(n + 1) + k * log(a / (a + u)) + n * log(u / (a + u)))

    def pmf(n, x, tx, T, t):
        T = mpf(T)
        k, a = r + x, alpha + T
        pa = p_alive(x, tx, T)
        alive = nbd(n, k, a, t) * S(T + t) / S(T) + quad(lambda u: nbd(n, k, a, u) * f(T + u) / S(T), [0, t / 2, t])
        return (1 - pa if n == 0 else 0) + pa * alive

    def dert(x, tx, T, delta):
        T = mpf(T)
        return p_alive(x, tx, T) * (r + x) / (alpha + T) * quad(lambda u: exp(-delta * u) * S(T + u) / S(T), [0, 10, 100, inf])

    return ll, p_alive, expected, pmf, dert


SETS = {
    "SOME": (0.55, 10.5, 0.05, 0.5, 1.5),
    "STEEP": (1.2, 3.0, 0.08, 2.0, 20.0),
}
HISTORIES = [(0, 0.0, 38.0), (2, 30.43, 38.86), (26, 30.86, 31.0), (7, 5.0, 39.0), (1, 20.0, 20.0), (3, 10.0, 10.5)]

for name, params in SETS.items():
    ll, p_alive, expected, pmf, dert = model(*params)
    print(f"# {name} = (r, alpha, b, s, beta) = {params}")
    print("# (x, t_x, T): ll, p_alive(0), p_alive(10), E[X(39)], P(0;39), P(1;39), P(3;39), dert(0.01)")
    for (x, tx, T) in HISTORIES:
        vals = [ll(x, tx, T), p_alive(x, tx, T), p_alive(x, tx, T, 10), expected(x, tx, T, 39),
                pmf(0, x, tx, T, 39), pmf(1, x, tx, T, 39), pmf(3, x, tx, T, 39), dert(x, tx, T, mpf("0.01"))]
        print(f"(({x}, {tx}, {T}), [" + ", ".join(mp.nstr(v, 17) for v in vals) + "]),")
        # Consistency of the two derivations: the pmf sums to 1 and its mean is E[X].
        total, mean, n = mpf(0), mpf(0), 0
        while True:
            p = pmf(n, x, tx, T, 39)
            total += p
            mean += n * p
            n += 1
            if n > 3 and p < mpf(10) ** -40:
                break
        assert abs(total - 1) < 1e-15, total
        assert abs(mean - vals[3]) < 1e-12 * vals[3], (mean, vals[3])
    print("# new customer: E[X(52)], P(0;52), P(2;52)")
    print(f"[{mp.nstr(expected(0, 0, 0, 52), 17)}, {mp.nstr(pmf(0, 0, 0, 0, 52), 17)}, {mp.nstr(pmf(2, 0, 0, 0, 52), 17)}],")
