#!/usr/bin/env python3
"""Runs the summary SQL that `clv sql` prints on DuckDB, Spark (and PostgreSQL when a local
server can be started) and compares every row with `clv summarize` on the same file.

    python3 scripts/sql_engines.py [--clv PATH] [--engines duckdb,spark,postgres] [--install]

Logs: the CDNOW master log (tests/data/cdnow_master_transactions.csv, 69,659 purchases) and a
small log with returns written to a temporary folder (same-day, later and full refunds, a
holdout return before any holdout purchase, zero amounts); a second small log has a calibration
return before any purchase, which `clv summarize` refuses and the SQL must flag in its
`return_without_purchase` column. Each log is summarised at several as-of dates, units and
holdouts.

Compared: the customers; `frequency` and `holdout_frequency` exactly; `recency` and `T` bit for
bit (`clv summarize` prints the shortest round-trip form); `monetary_value` and
`holdout_monetary_value` exactly (both are the exact mean rounded half to even to 6 places).
The engines' other columns (spend sums, orders, first and last purchase days) must agree with
each other exactly.

`--clv` defaults to target/release/clv (under $CARGO_TARGET_DIR when set), built with
cargo when missing. DuckDB and PySpark are Python packages (`pip install duckdb pyspark`;
`--install` runs that); Spark needs Java 17 and runs in local mode, one session for every check.
PostgreSQL runs when `initdb`, `pg_ctl` and `psql` are on the PATH: a throwaway cluster in a
temporary folder, on a Unix socket, as the `postgres` user when run as root; without them it
is skipped with a note (it is not in the default --engines list of CI unless asked for).

Prints what it checked and the time each engine took; exits 1 on any mismatch or failure, 2 when
a requested engine is missing.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT / "tests" / "data" / "cdnow_master_transactions.csv"

# customer_id,date,amount,kind: purchases and returns of a few customers around 2024-01-20.
RETURNS_LOG = """customer_id,date,amount,kind
1,2024-01-01,10.00,purchase
1,2024-01-01,5.50,purchase
1,2024-01-01,3.00,return
1,2024-01-05,20.00,purchase
1,2024-01-07,20.00,return
1,2024-01-10,7.25,purchase
1,2024-01-25,12.00,purchase
1,2024-01-26,4.00,return
2,2024-01-03,0.00,purchase
2,2024-01-04,0.00,purchase
2,2024-01-09,30.00,purchase
2,2024-01-09,30.00,return
2,2024-01-12,1.01,purchase
2,2024-01-22,9.99,return
2,2024-01-28,15.00,purchase
3,2024-01-15,100.00,purchase
3,2024-01-16,33.33,return
3,2024-01-18,0.01,purchase
3,2024-01-19,0.02,purchase
3,2024-01-20,0.03,purchase
4,2024-01-21,50.00,purchase
4,2024-01-22,10.00,return
5,2024-01-02,8.00,purchase
5,2024-01-02,8.00,return
5,2024-01-06,1.00,purchase
5,2024-01-08,4.00,return
6,2024-01-19,0.01,purchase
6,2024-01-19,0.02,purchase
6,2024-02-03,3.00,purchase
"""

# A calibration return before any purchase of customer 8: `clv summarize` fails on it.
BAD_RETURNS_LOG = """customer_id,date,amount,kind
7,2024-01-02,10.00,purchase
7,2024-01-04,2.00,return
8,2024-01-03,5.00,return
8,2024-01-06,12.00,purchase
8,2024-01-09,3.00,purchase
"""


@dataclass
class Log:
    name: str
    path: Path
    kind: bool  # has a kind column
    configs: list[tuple[str, str, str | None]]  # (end, unit, holdout end)


class Failure(Exception):
    pass


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def find_clv(path: str | None) -> str:
    if path:
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    clv = target / "release" / "clv"
    if not clv.exists():
        print(f"building {clv} (cargo build --release -p customer-assets-cli)", flush=True)
        r = subprocess.run(["cargo", "build", "--release", "-p", "customer-assets-cli"], cwd=ROOT)
        if r.returncode != 0:
            raise SystemExit("sql_engines: cargo build failed")
    return str(clv)


def clv_summarize(clv: str, log: Log, end: str, unit: str, holdout: str | None):
    """`clv summarize`'s rows by customer id, or its error message."""
    cmd = [clv, "summarize", "--transactions", str(log.path), "--end", end, "--unit", unit]
    if holdout:
        cmd += ["--holdout-end", holdout]
    r = run(cmd)
    if r.returncode != 0:
        return None, r.stderr.strip()
    rows = {}
    for row in csv.DictReader(io.StringIO(r.stdout)):
        rows[int(row["customer_id"])] = row
    return rows, None


def clv_sql(clv: str, dialect: str, log: Log, end: str, unit: str, holdout: str | None) -> str:
    cmd = [clv, "sql", "--dialect", dialect, "--table", "transactions", "--end", end, "--unit", unit]
    if holdout:
        cmd += ["--holdout-end", holdout]
    if log.kind:
        cmd += ["--kind-col", "kind"]
    r = run(cmd)
    if r.returncode != 0:
        raise Failure(f"clv sql --dialect {dialect} failed: {r.stderr.strip()}")
    return r.stdout


def normalise(value):
    """A cell as comparable text: decimals by value, floats in round-trip form, dates ISO."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value.normalize()) if value != 0 else "0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def compare(engine: str, what: str, columns: list[str], rows: list[tuple], expected, error):
    """Checks an engine's rows against `clv summarize`'s (or its error); returns the rows by id,
    normalised, for the cross-engine check."""
    got = {}
    for r in rows:
        rec = dict(zip(columns, r))
        cid = int(rec["customer_id"])
        if cid in got:
            raise Failure(f"{engine} {what}: customer {cid} twice")
        got[cid] = {k: normalise(v) for k, v in rec.items()}
    if error is not None:
        # clv summarize refused the log: the SQL must flag the customer it names, at that day.
        flagged = {c: r["return_without_purchase"] for c, r in got.items() if r.get("return_without_purchase")}
        if not flagged:
            raise Failure(f"{engine} {what}: clv summarize failed ({error}) but no row is flagged")
        for cid, day in flagged.items():
            if f"customer {cid}:" in error and day not in error:
                raise Failure(f"{engine} {what}: customer {cid} flagged at {day}, clv says: {error}")
        if not any(f"customer {cid}:" in error for cid in flagged):
            raise Failure(f"{engine} {what}: flagged {sorted(flagged)}, clv says: {error}")
        return got
    if sorted(got) != sorted(expected):
        missing = sorted(set(expected) - set(got))[:5]
        extra = sorted(set(got) - set(expected))[:5]
        raise Failure(f"{engine} {what}: customers differ (missing {missing}, extra {extra})")
    for cid, want in expected.items():
        have = got[cid]
        for col, text in want.items():
            if col == "customer_id":
                continue
            h = have[col]
            if col in ("recency", "T"):
                ok = h is not None and float(h).hex() == float(text).hex()
            elif col in ("monetary_value", "holdout_monetary_value"):
                ok = h is not None and Decimal(h) == Decimal(text)
            else:
                ok = h is not None and int(h) == int(text)
            if not ok:
                raise Failure(f"{engine} {what}: customer {cid}, {col}: {h} (SQL) != {text} (clv summarize)")
        if have.get("return_without_purchase") is not None:
            raise Failure(f"{engine} {what}: customer {cid} flagged, but clv summarize accepts the log")
    return got


# ---------------------------------------------------------------------------------------------
# Engines: each loads a log as the table `transactions` and runs a query.

CSV_TYPES = {"customer_id": "BIGINT", "date": "DATE", "quantity": "INTEGER",
             "amount": "DECIMAL(18, 2)", "kind": "VARCHAR"}


def header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


class DuckDb:
    name = "duckdb"

    def __init__(self):
        import duckdb
        self.con = duckdb.connect()

    def load(self, log: Log):
        cols = ", ".join(f"'{c}': '{CSV_TYPES[c]}'" for c in header(log.path))
        self.con.execute("DROP TABLE IF EXISTS transactions")
        self.con.execute(
            f"CREATE TABLE transactions AS SELECT * FROM read_csv('{log.path}', header = true, "
            f"columns = {{{cols}}})")

    def query(self, sql: str):
        cur = self.con.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()

    def close(self):
        self.con.close()


class Spark:
    name = "spark"

    def __init__(self):
        from pyspark.sql import SparkSession
        self.spark = (SparkSession.builder.master("local[2]").appName("sql_engines")
                      .config("spark.ui.enabled", "false")
                      .config("spark.ui.showConsoleProgress", "false")
                      .config("spark.sql.shuffle.partitions", "4")
                      .config("spark.sql.session.timeZone", "UTC")
                      .getOrCreate())
        self.spark.sparkContext.setLogLevel("ERROR")

    def load(self, log: Log):
        types = {**CSV_TYPES, "kind": "STRING"}
        schema = ", ".join(f"`{c}` {types[c]}" for c in header(log.path))
        df = self.spark.read.csv(str(log.path), header=True, schema=schema, mode="FAILFAST")
        df.createOrReplaceTempView("transactions")

    def query(self, sql: str):
        df = self.spark.sql(sql)
        return df.columns, [tuple(r) for r in df.collect()]

    def close(self):
        self.spark.stop()


class Postgres:
    name = "postgres"

    def __init__(self):
        for tool in ("initdb", "pg_ctl", "psql"):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is not on the PATH")
        self.dir = tempfile.mkdtemp(prefix="sql-engines-pg-")
        self.user = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            os.chmod(self.dir, 0o777)
            self.user = ["runuser", "-u", "postgres", "--"]
        data = os.path.join(self.dir, "data")
        r = run(self.user + ["initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()[:300]}")
        r = run(self.user + ["pg_ctl", "-D", data, "-l", os.path.join(self.dir, "log"), "-w", "-o",
                             f"-k {self.dir} -c listen_addresses='' -p 54329", "start"])
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()[:300]}")
        self.data = data

    def psql(self, sql: str, *extra: str) -> str:
        r = run(["psql", "-h", self.dir, "-p", "54329", "-U", "postgres", "-X", "-q",
                 "-v", "ON_ERROR_STOP=1", *extra], input=sql)
        if r.returncode != 0:
            raise Failure(f"postgres: {r.stderr.strip()[:500]}")
        return r.stdout

    def load(self, log: Log):
        types = {**CSV_TYPES, "kind": "TEXT"}
        cols = ", ".join(f'"{c}" {types[c]}' for c in header(log.path))
        # `\copy` reads the file in psql, as this process's user, not in the server: no chmod (on
        # the repository's own CDNOW file, one made CI's `git stash create` exit 1).
        self.psql(f"DROP TABLE IF EXISTS transactions; CREATE TABLE transactions ({cols});\n"
                  f"\\copy transactions FROM '{log.path}' WITH (FORMAT csv, HEADER true)\n")

    def query(self, sql: str):
        out = self.psql(sql.rstrip().rstrip(";") + ";", "--csv")
        rows = list(csv.reader(io.StringIO(out)))
        columns, body = rows[0], rows[1:]
        # psql prints text: turn cells back into values by column.
        def cell(col, v):
            if v == "":
                return None
            if col in ("recency", "T"):
                return float(v)
            if col in ("first_purchase", "last_purchase", "return_without_purchase", "customer_id"):
                return v if col != "customer_id" else int(v)
            if col in ("frequency", "orders", "holdout_frequency"):
                return int(v)
            return Decimal(v)
        return columns, [tuple(cell(c, v) for c, v in zip(columns, r)) for r in body]

    def close(self):
        run(self.user + ["pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)


ENGINES = {"duckdb": DuckDb, "spark": Spark, "postgres": Postgres}
PACKAGES = {"duckdb": "duckdb", "spark": "pyspark"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clv", help="the clv binary (default: target/release/clv)")
    ap.add_argument("--engines", default="duckdb,spark,postgres",
                    help="comma-separated: duckdb, spark, postgres (postgres is skipped with a "
                         "note when no local server can be started)")
    ap.add_argument("--install", action="store_true", help="pip install missing packages")
    args = ap.parse_args()
    wanted = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in wanted:
        if e not in ENGINES:
            print(f"sql_engines: unknown engine {e!r} (known: {', '.join(ENGINES)})", file=sys.stderr)
            return 2
    missing = []
    for e in wanted:
        pkg = PACKAGES.get(e)
        if pkg is None:
            continue
        try:
            __import__(pkg)
        except ImportError:
            missing.append(pkg)
    if missing and args.install:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
        missing = []
    if missing:
        print(f"sql_engines: missing Python packages: {' '.join(missing)} "
              f"(pip install {' '.join(missing)}, or run with --install)", file=sys.stderr)
        return 2
    clv = find_clv(args.clv)

    tmp = Path(tempfile.mkdtemp(prefix="sql-engines-"))
    os.chmod(tmp, 0o755)
    (tmp / "returns.csv").write_text(RETURNS_LOG)
    (tmp / "bad_returns.csv").write_text(BAD_RETURNS_LOG)
    logs = [
        Log("cdnow", CDNOW, False, [("1997-09-30", "weeks", "1998-06-30"),
                                    ("1997-09-30", "days", None),
                                    ("1997-03-15", "weeks", "1997-12-31")]),
        Log("returns", tmp / "returns.csv", True, [("2024-01-20", "weeks", "2024-02-10"),
                                                   ("2024-01-20", "days", None),
                                                   ("2024-01-09", "days", "2024-01-25")]),
        Log("bad returns", tmp / "bad_returns.csv", True, [("2024-01-10", "days", None)]),
    ]

    # clv summarize once per log and configuration.
    expected = {}
    for log in logs:
        for cfg in log.configs:
            expected[(log.name, cfg)] = clv_summarize(clv, log, *cfg)
            rows, error = expected[(log.name, cfg)]
            if (error is None) == (log.name == "bad returns"):
                print(f"FAIL clv summarize {log.name} {cfg}: {error or 'accepted the log'}")
                return 1

    failures = 0
    results = {}  # (log, cfg) -> engine -> rows
    for e in wanted:
        start = time.monotonic()
        try:
            engine = ENGINES[e]()
        except Exception as err:  # noqa: BLE001 - report any start-up failure
            if e == "postgres":
                print(f"skip postgres: {err}")
                continue
            print(f"FAIL {e}: cannot start: {err}")
            failures += 1
            continue
        checked = 0
        try:
            for log in logs:
                engine.load(log)
                for cfg in log.configs:
                    what = f"{log.name} --end {cfg[0]} --unit {cfg[1]}" + (
                        f" --holdout-end {cfg[2]}" if cfg[2] else "")
                    try:
                        sql = clv_sql(clv, e, log, *cfg)
                        columns, rows = engine.query(sql)
                        rows_by_id, error = expected[(log.name, cfg)]
                        got = compare(e, what, columns, rows, rows_by_id, error)
                        results.setdefault((log.name, cfg), {})[e] = got
                        checked += len(got)
                        print(f"ok   {e:8} {what}: {len(got)} customers")
                    except Failure as f:
                        print(f"FAIL {f}")
                        failures += 1
                    except Exception as err:  # noqa: BLE001 - an engine error is a failure
                        print(f"FAIL {e} {what}: {type(err).__name__}: {str(err)[:500]}")
                        failures += 1
        finally:
            engine.close()
        print(f"{e}: {checked} rows compared in {time.monotonic() - start:.1f} s")

    # Every engine's every column equals every other's.
    for key, by_engine in results.items():
        engines = sorted(by_engine)
        for other in engines[1:]:
            a, b = by_engine[engines[0]], by_engine[other]
            if a != b:
                cid = next((c for c in sorted(a) if a.get(c) != b.get(c)), None)
                print(f"FAIL {engines[0]} and {other} differ on {key}: customer {cid}: "
                      f"{a.get(cid)} != {b.get(cid)}")
                failures += 1
    shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"sql_engines: {failures} failures")
        return 1
    print("sql_engines: every engine agrees with clv summarize")
    return 0


if __name__ == "__main__":
    sys.exit(main())
