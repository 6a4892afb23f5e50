"""Golden values for the covariate models' predictions (tests/it/covariate_recovery.rs,
`individual_predictions_match_mpmath`): four customers with covariates (web, score) under
Pareto/NBD, BG/NBD and MBG/NBD at fixed base parameters and coefficients. Each customer's own
parameters follow Fader & Hardie (2007, "Incorporating time-invariant covariates into the
Pareto/NBD and BG/NBD models"): alpha_i = alpha0 exp(-g_p'z); Pareto/NBD beta_i = beta0 exp(-g_d'z);
BG/NBD and MBG/NBD a_i = a0 exp(g_d'z), b_i = b0 exp(g_d'z). Then, with mpmath at 30 digits,
straight from the papers' formulas:

- Pareto/NBD (Fader & Hardie 2005, "A note on deriving the Pareto/NBD model and related
  expressions", eqs. 18-22): the log-likelihood, P(alive) and E[Y(t) | x, t_x, T];
- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", eqs. 6, 10 and the
  note "Computing P(alive) using the BG/NBD model");
- MBG/NBD (Batislam, Denizel & Filiztekin 2007, Appendix A).

Run: python3 scripts/covariate_golden.py (prints the Rust table the test pastes).
"""
from mpmath import mp, mpf, hyp2f1, loggamma, log, exp, beta, nstr

mp.dps = 30

T_HORIZON = mpf(26)

# (web, score, x, t_x, T) in weeks
CUSTOMERS = [
    (1, mpf('0.8'), 4, mpf('30.5'), mpf(52)),
    (0, mpf('-1.2'), 0, mpf(0), mpf(40)),
    (1, mpf('-0.5'), 12, mpf(70), mpf(78)),
    (0, mpf(2), 1, mpf('5.25'), mpf(60)),
]

# base parameters and coefficients: purchase.web, purchase.score, dropout.web, dropout.score
MODELS = {
    'pareto-nbd': ([mpf('0.6'), mpf(8), mpf('0.7'), mpf(12)], [mpf('0.5'), mpf('-0.3'), mpf('-0.4'), mpf('0.3')]),
    'bg-nbd': ([mpf('0.6'), mpf(8), mpf('0.7'), mpf('2.5')], [mpf('0.5'), mpf('-0.3'), mpf('-0.4'), mpf('0.3')]),
    'mbg-nbd': ([mpf('0.6'), mpf(8), mpf('0.7'), mpf('2.5')], [mpf('0.5'), mpf('-0.3'), mpf('-0.4'), mpf('0.3')]),
}


def individual(family, base, g, web, score):
    r, a0, c, d = base
    zp = g[0] * web + g[1] * score
    zd = g[2] * web + g[3] * score
    alpha = a0 * exp(-zp)
    if family == 'pareto-nbd':
        return r, alpha, c, d * exp(-zd)
    return r, alpha, c * exp(zd), d * exp(zd)


def pareto(r, alpha, s, b, x, tx, T, t):
    n = r + s + x
    if alpha >= b:
        F = lambda u: hyp2f1(n, s + 1, n + 1, (alpha - b) / (alpha + u)) / (alpha + u) ** n
    else:
        F = lambda u: hyp2f1(n, r + x, n + 1, (b - alpha) / (b + u)) / (b + u) ** n
    a0 = F(tx) - F(T)
    c = exp(loggamma(r + x) - loggamma(r)) * alpha ** r * b ** s
    first = 1 / ((alpha + T) ** (r + x) * (b + T) ** s)
    like = c * (first + s / n * a0)
    p_alive = c * first / like
    ey = p_alive * (r + x) * (b + T) / ((alpha + T) * (s - 1)) * (1 - ((b + T) / (b + T + t)) ** (s - 1))
    return log(like), p_alive, ey


def bg(r, alpha, a, b, x, tx, T, t):
    c = exp(loggamma(r + x) - loggamma(r)) * alpha ** r
    like = c * beta(a, b + x) / beta(a, b) / (alpha + T) ** (r + x)
    if x > 0:
        like += c * beta(a + 1, b + x - 1) / beta(a, b) / (alpha + tx) ** (r + x)
    odds = a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0
    p_alive = 1 / (1 + odds)
    z = t / (alpha + T + t)
    ey = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)) / (1 + odds)
    return log(like), p_alive, ey


def mbg(r, alpha, a, b, x, tx, T, t):
    c = exp(loggamma(r + x) - loggamma(r)) * alpha ** r
    like = c * (beta(a, b + x + 1) / beta(a, b) / (alpha + T) ** (r + x)
                + beta(a + 1, b + x) / beta(a, b) / (alpha + tx) ** (r + x))
    odds = a / (b + x) * ((alpha + T) / (alpha + tx)) ** (r + x)
    p_alive = 1 / (1 + odds)
    z = t / (alpha + T + t)
    ey = (a + b + x) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x + 1, a + b + x, z)) / (1 + odds)
    return log(like), p_alive, ey


FORMULAS = {'pareto-nbd': pareto, 'bg-nbd': bg, 'mbg-nbd': mbg}

print('// (family, [web, score], (x, t_x, T), ln L, P(alive), E[Y(26)])')
for family, (base, g) in MODELS.items():
    for (web, score, x, tx, T) in CUSTOMERS:
        p = individual(family, base, g, web, score)
        ll, pa, ey = FORMULAS[family](*p, x, tx, T, T_HORIZON)
        print(f'("{family}", [{web}.0, {nstr(score, 6)}], ({x}, {nstr(tx, 6)}, {nstr(T, 6)}), '
              f'{nstr(ll, 20)}, {nstr(pa, 20)}, {nstr(ey, 20)}),')
