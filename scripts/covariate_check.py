"""Independent check of the covariate fits on CLVTools' apparel data (weekly unit, calibration
2005-01-02 .. 2006-12-31): the Pareto/NBD and BG/NBD likelihoods with time-invariant covariates
written from Fader & Hardie (2005, 2007) in numpy/scipy, maximised by a second optimiser (scipy
BFGS, then Nelder-Mead) from several starts; the final log-likelihood re-evaluated with mpmath
at 30 digits. Prints, per model, the best estimate of every start.

    python3 scripts/covariate_check.py ../shared/data/clvtools
"""
import csv, sys, datetime as dt
import numpy as np
from scipy import optimize, special
import mpmath as mp

root = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/clvtools'
cal_end = dt.date(2006, 12, 31)
days = {}
for r in csv.DictReader(open(f'{root}/apparelTrans.csv')):
    days.setdefault(r['Id'], set()).add(dt.date.fromisoformat(r['Date']))
cov = {r['Id']: (float(r['Gender']), float(r['Channel'])) for r in csv.DictReader(open(f'{root}/apparelStaticCov.csv'))}
rows = []
for cid, ds in days.items():
    first = min(ds)
    if first > cal_end:
        continue
    cal = sorted(d for d in ds if d <= cal_end)
    x = len(cal) - 1
    tx = (cal[-1] - first).days / 7
    T = (cal_end - first).days / 7
    rows.append((x, tx, T) + cov[cid])
X = np.array([r[0] for r in rows], float)
TX = np.array([r[1] for r in rows])
TT = np.array([r[2] for r in rows])
Z = np.array([r[3:] for r in rows])
print('customers', len(rows), 'repeat purchases', X.sum())

def pnbd_ll(p):
    r, a0, s, b0 = np.exp(p[:4]); gp = p[4:6]; gd = p[6:8]
    al = a0 * np.exp(-Z @ gp); be = b0 * np.exp(-Z @ gd)
    n = r + s + X
    big = al >= be
    m = np.where(big, al, be)
    c = np.where(big, s + 1, r + X)
    def part(t):
        zz = np.abs(al - be) / (m + t)
        return special.hyp2f1(n, c, n + 1, zz) / (m + t) ** n
    a0t = part(TX) - part(TT)
    ll = (special.gammaln(r + X) - special.gammaln(r) + r * np.log(al) + s * np.log(be)
          + np.log(1 / ((al + TT) ** (r + X) * (be + TT) ** s) + s / n * a0t))
    return ll.sum()

def pnbd_ll_mp(p):
    mp.mp.dps = 30
    r, a0, s, b0 = [mp.e ** mp.mpf(v) for v in p[:4]]
    total = mp.mpf(0)
    for (x, tx, T, g, ch) in rows:
        al = a0 * mp.e ** (-(p[4] * g + p[5] * ch)); be = b0 * mp.e ** (-(p[6] * g + p[7] * ch))
        n = r + s + x
        if al >= be:
            f = lambda t: mp.hyp2f1(n, s + 1, n + 1, (al - be) / (al + t)) / (al + t) ** n
        else:
            f = lambda t: mp.hyp2f1(n, r + x, n + 1, (be - al) / (be + t)) / (be + t) ** n
        total += (mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al) + s * mp.log(be)
                  + mp.log(1 / ((al + T) ** (r + x) * (be + T) ** s) + s / n * (f(tx) - f(T))))
    return total

def bg_ll(p):
    r, a0_, a, b = np.exp(p[:4]); gp = p[4:6]; gd = p[6:8]
    al = a0_ * np.exp(-Z @ gp); ai = a * np.exp(Z @ gd); bi = b * np.exp(Z @ gd)
    c = special.gammaln(r + X) - special.gammaln(r) + r * np.log(al)
    t1 = special.betaln(ai, bi + X) - special.betaln(ai, bi) - (r + X) * np.log(al + TT)
    with np.errstate(divide='ignore'):
        t2 = np.where(X > 0, special.betaln(ai + 1, bi + X - 1) - special.betaln(ai, bi) - (r + X) * np.log(al + TX), -np.inf)
    return (c + np.logaddexp(t1, t2)).sum()

def fit(ll, starts, names):
    best = None
    for s0 in starts:
        f = lambda p: -ll(p) if np.isfinite(ll(p)) else 1e300
        res = optimize.minimize(f, s0, method='BFGS', options={'gtol': 1e-8, 'maxiter': 5000})
        res = optimize.minimize(f, res.x, method='Nelder-Mead', options={'xatol': 1e-10, 'fatol': 1e-12, 'maxiter': 40000, 'maxfev': 40000})
        print('  start', np.round(s0, 2), '-> ll', round(-res.fun, 6))
        if best is None or res.fun < best.fun:
            best = res
    nat = np.concatenate([np.exp(best.x[:4]), best.x[4:]])
    for n, v in zip(names, nat):
        print(f'  {n} {v:.6f}')
    return best

starts = [np.array([0, np.log(50), 0, np.log(50), 0, 0, 0, 0]),
          np.array([np.log(0.5), np.log(10), np.log(0.5), np.log(10), 0.5, 0.5, -0.5, 0.5]),
          np.array([np.log(2), np.log(100), np.log(1), np.log(100), -0.5, 1, 0.5, -0.5])]
print('pareto-nbd')
best = fit(pnbd_ll, starts, ['r', 'alpha', 's', 'beta', 'purchase.Gender', 'purchase.Channel', 'dropout.Gender', 'dropout.Channel'])
print('  mpmath ll at the best', mp.nstr(pnbd_ll_mp(list(best.x)), 15))
print('bg-nbd')
bstarts = [np.array([0, np.log(20), 0, np.log(5), 0, 0, 0, 0]),
           np.array([np.log(0.5), np.log(10), np.log(2), np.log(10), 0.5, 0.5, -0.5, 0.5])]
fit(bg_ll, bstarts, ['r', 'alpha', 'a', 'b', 'purchase.Gender', 'purchase.Channel', 'dropout.Gender', 'dropout.Channel'])
