#!/usr/bin/env python3
"""Runs the `clv` tool on hostile and degenerate input and fails on any bad reaction.

    python3 scripts/clv_fuzz.py target/release/clv [--jobs N] [--timeout S] [--keep]

Builds a corpus of bad files in a temporary folder (encodings and line ends, quoting, unicode and
10 kB ids, impossible dates, non-finite and odd numbers, broken summaries, empty and header-only
files, missing, extra and duplicate columns, binary garbage), runs every subcommand with its
relevant flags on each, and every flag with hostile values on good data (`pseudonymize` also
with hostile key files: empty, short, a folder, endless, binary). A case fails on:

- a panic (exit 101 or "panicked" on stderr), an abort or a signal, "memory allocation" failures;
- a hang (more than --timeout seconds, default 10);
- garbage: exit 0 with an empty body or a header without rows, CSV rows of the wrong width,
  JSON that does not parse, NaN or infinity in the output, more than 50 MB of output;
- an error without a location: an error caused by a file must name the file and a line (or a
  flag it was given with, or the step that failed on the data as a whole: "fitting", "valuing",
  "validating", "summarising", "KPIs"); an error caused by a flag must name the flag;
- an error line longer than 400 characters, or not starting with "clv: error:";
- a control case (good data, plain flags) that does not succeed;
- a closed output pipe (`clv ... | head`) that gives a message or a non-conventional exit.

Prints the number of cases, the time taken and every failing case; exits 1 when any failed.
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
RULES = REPO / "examples" / "loyalty_rules.json"

MAX_ERROR_LINE = 400
MAX_OUTPUT = 50 << 20
WHOLE_DATA_STEPS = ("fit", "valuing", "validating", "summarising", "KPIs", "no customer")


@dataclass
class Case:
    """One run of clv and what is expected of it."""

    name: str
    args: list[str]
    # "csv", "json" or "sql" (a query): the output's form on success.
    output: str
    # Files the input comes from (an error must name one of them or a flag).
    files: list[str] = field(default_factory=list)
    # Flags whose hostile value is the point of the case: the error must name one.
    flags: list[str] = field(default_factory=list)
    # "any": success or a good error; "fail": must fail; "ok": must succeed.
    expect: str = "any"


# ---------------------------------------------------------------------------------------------
# The corpus.

LOG_HEADER = "customer_id,date,amount\n"


def good_log_rows() -> list[str]:
    """The first 300 customers of the CDNOW sample (tests/data), as customer_id,date,amount."""
    rows = []
    with (DATA / "cdnow_sample_transactions.csv").open() as f:
        for row in csv.DictReader(f):
            if int(row["customer_id"]) > 300:
                break
            rows.append(f"{row['customer_id']},{row['date']},{row['amount']}")
    return rows


def transaction_logs(d: Path) -> dict[str, bytes]:
    good = good_log_rows()
    body = "".join(r + "\n" for r in good)
    logs: dict[str, str | bytes] = {
        "good": LOG_HEADER + body,
        "bom": "\ufeff" + LOG_HEADER + body,
        "crlf": (LOG_HEADER + body).replace("\n", "\r\n"),
        "cr_only": (LOG_HEADER + body).replace("\n", "\r"),
        "crlf_short_row": (LOG_HEADER + "".join(r + "\n" for r in good[:2]) + "9,1997-01-01\n"
                           + body).replace("\n", "\r\n"),
        "quoted": LOG_HEADER + "".join(
            '"{}","{}","{}"\n'.format(*r.split(",")) for r in good),
        "quoted_comma_id": LOG_HEADER + '"a,b",1997-01-02,5\n"a,b",1997-02-02,6\n"q""x",1997-01-03,7\n'
        + body,
        "quoted_newline_id": LOG_HEADER + '"line\nbreak",1997-01-02,5\n' + body,
        "unicode_ids": LOG_HEADER + "".join(
            f"{['Zoë', '顧客', '🙂', 'Ωmega', 'ﬁ'][i % 5]}{i % 7},{r.split(',', 1)[1]}\n"
            for i, r in enumerate(good)),
        "long_id": LOG_HEADER + ("x" * 10_000) + ",1997-01-05,10\n" + ("x" * 10_000)
        + ",1997-03-05,12\n" + body,
        "invalid_utf8_id": (LOG_HEADER + body).encode() + b"\xff\xfe,1997-01-01,5\n",
        "date_feb30": LOG_HEADER + body + "7,1997-02-30,5\n",
        "date_zero": LOG_HEADER + body + "7,0000-00-00,5\n",
        "date_5digit_year": LOG_HEADER + body + "7,99999-01-01,5\n",
        "date_far_future": LOG_HEADER + body + "7,9999-12-31,5\n",
        "date_year_one": LOG_HEADER + "7,0001-01-01,5\n" + body,
        "date_with_time": LOG_HEADER + body + "7,1997-03-01T10:00:00,5\n",
        "date_slashes": LOG_HEADER + body + "7,03/01/1997,5\n",
        "amount_nan": LOG_HEADER + body + "7,1997-03-01,NaN\n",
        "amount_inf": LOG_HEADER + body + "7,1997-03-01,inf\n",
        "amount_1e400": LOG_HEADER + body + "7,1997-03-01,1e400\n",
        "amount_huge": LOG_HEADER + body + "7,1997-03-01,99999999999999999999999999999999\n",
        "amount_neg_zero": LOG_HEADER + body + "7,1997-03-01,-0\n",
        "amount_negative": LOG_HEADER + body + "7,1997-03-01,-5\n",
        "amount_underscore": LOG_HEADER + body + "7,1997-03-01,1_000\n",
        "amount_plus": LOG_HEADER + body + "7,1997-03-01,+5\n",
        "amount_hex": LOG_HEADER + body + "7,1997-03-01,0x10\n",
        "amount_empty": LOG_HEADER + body + "7,1997-03-01,\n",
        "amount_long": LOG_HEADER + body + "7,1997-03-01," + "9" * 5000 + "\n",
        "amount_all_zero": LOG_HEADER + "".join(
            f"{r.rsplit(',', 1)[0]},0.00\n" for r in good),
        "id_empty": LOG_HEADER + body + ",1997-03-01,5\n",
        "empty": "",
        "whitespace_only": "\n\n  \n",
        "header_only": LOG_HEADER,
        "header_only_no_newline": LOG_HEADER.strip(),
        "header_then_blank_lines": LOG_HEADER + "\n\n\n",
        "missing_column": "customer_id,date\n" + "".join(
            r.rsplit(",", 1)[0] + "\n" for r in good),
        "kind_returns": "customer_id,date,amount,kind\n" + "".join(
            f"{r},{'return' if i % 5 == 4 else 'purchase'}\n" for i, r in enumerate(good)),
        "kind_bogus": "customer_id,date,amount,kind\n" + "".join(
            f"{r},{'bogus' if i == 50 else 'purchase'}\n" for i, r in enumerate(good)),
        "kind_return_first": "customer_id,date,amount,kind\n1,1996-12-01,5,return\n" + "".join(
            f"{r},purchase\n" for r in good),
        "extra_columns": "customer_id,date,amount,note,x\n" + "".join(
            r + ",hello,1\n" for r in good),
        "duplicate_header": "customer_id,date,amount,amount\n" + "".join(
            r + ",3\n" for r in good),
        "short_row": LOG_HEADER + body + "7,1997-03-01\n" + body,
        "long_row": LOG_HEADER + body + "7,1997-03-01,5,6\n",
        "hundred_line_field": LOG_HEADER + body + '7,1997-03-01,"'
        + "\n".join(f"line {i} of a field that goes on" for i in range(100)) + '"\n',
        "one_transaction": LOG_HEADER + "1,1997-01-01,5\n",
        "one_customer_one_day": LOG_HEADER + "1,1997-01-01,5\n1,1997-01-01,6\n",
        "binary": bytes(range(256)) * 8,
        "nul_bytes": (LOG_HEADER + body).encode().replace(b",", b"\x00,", 5),
        "semicolons": LOG_HEADER.replace(",", ";") + "".join(r.replace(",", ";") + "\n"
                                                            for r in good),
    }
    return {k: v if isinstance(v, bytes) else v.encode() for k, v in logs.items()}


SUMMARY_HEADER = "customer_id,frequency,recency,T,monetary_value\n"


def good_summary_rows() -> list[str]:
    src = (DATA / "cdnow_summary.csv").read_text().splitlines()[1:301]
    return src


def summaries(d: Path) -> dict[str, bytes]:
    good = good_summary_rows()
    body = "".join(r + "\n" for r in good)
    many = "".join(f"{i},{1 + i % 5},{10 + i % 7},{30 + i % 9},{10 + i % 13}\n"
                   for i in range(1, 400))
    files: dict[str, str | bytes] = {
        "good": SUMMARY_HEADER + body,
        "bom": "\ufeff" + SUMMARY_HEADER + body,
        "crlf": (SUMMARY_HEADER + body).replace("\n", "\r\n"),
        "crlf_short_row": (SUMMARY_HEADER + good[0] + "\n" + good[1] + "\n9,1,2\n"
                           + body).replace("\n", "\r\n"),
        "cr_only": (SUMMARY_HEADER + body).replace("\n", "\r"),
        "quoted": SUMMARY_HEADER + "".join('"' + r.replace(",", '","') + '"\n' for r in good),
        "weights": SUMMARY_HEADER.strip() + ",weights\n" + "".join(r + ",2\n" for r in good),
        "weight_zero": SUMMARY_HEADER.strip() + ",weights\n" + "".join(r + ",1\n" for r in good[:5])
        + good[5] + ",0\n",
        "weight_negative": SUMMARY_HEADER.strip() + ",weights\n"
        + "".join(r + ",1\n" for r in good[:5]) + good[5] + ",-1\n",
        "weight_nan": SUMMARY_HEADER.strip() + ",weights\n" + good[0] + ",NaN\n",
        "freq_fraction": SUMMARY_HEADER + body + "x,1.5,2,3,4\n",
        "freq_negative": SUMMARY_HEADER + body + "x,-1,2,3,4\n",
        "freq_u32_overflow": SUMMARY_HEADER + body + "x,4294967296,2,3,4\n",
        "freq_1e3": SUMMARY_HEADER + body + "x,1e3,2,3,4\n",
        "freq_plus": SUMMARY_HEADER + body + "x,+5,2,3,4\n",
        "freq_underscore": SUMMARY_HEADER + body + "x,1_000,2,3,4\n",
        "freq_max_one": SUMMARY_HEADER + "x,4294967295,30,38,20\n",
        "freq_100k_one": SUMMARY_HEADER + "x,100000,30,38,20\n",
        "freq_100k_two": SUMMARY_HEADER + "x,100000,30,38,20\ny,1,10,38,20\n",
        "freq_max_two": SUMMARY_HEADER + "x,4294967295,30,38,20\ny,1,10,38,20\n",
        "freq_100k_400": SUMMARY_HEADER + "big,100000,30,38,20\n" + many,
        "freq_max_400": SUMMARY_HEADER + "big,4294967295,30,38,20\n" + many,
        "recency_after_T": SUMMARY_HEADER + body + "x,2,40,30,4\n",
        "recency_without_repeat": SUMMARY_HEADER + body + "x,0,5,30,0\n",
        "T_negative": SUMMARY_HEADER + body + "x,0,0,-3,0\n",
        "recency_nan": SUMMARY_HEADER + body + "x,1,NaN,30,4\n",
        "T_inf": SUMMARY_HEADER + body + "x,1,2,inf,4\n",
        "T_1e400": SUMMARY_HEADER + body + "x,1,2,1e400,4\n",
        "T_1e300": SUMMARY_HEADER + body + "x,1,2,1e300,4\n",
        "T_tiny": SUMMARY_HEADER + body + "x,1,1e-300,1e-300,4\n",
        "T_neg_zero": SUMMARY_HEADER + body + "x,0,-0,-0,0\n",
        "money_negative": SUMMARY_HEADER + body + "x,1,2,30,-4\n",
        "money_nan": SUMMARY_HEADER + body + "x,1,2,30,NaN\n",
        "money_zero_repeat": SUMMARY_HEADER + body + "x,3,2,30,0\n",
        "money_1e300": SUMMARY_HEADER + body + "x,3,2,30,1e300\n",
        "all_zero_frequency": SUMMARY_HEADER + "".join(f"{i},0,0,{20 + i % 9},0\n"
                                                       for i in range(50)),
        "one_customer": SUMMARY_HEADER + good[0] + "\n",
        "two_customers": SUMMARY_HEADER + good[0] + "\n" + good[1] + "\n",
        "unicode_ids": SUMMARY_HEADER + "".join(
            f"Zoë-顧客-{i}," + r.split(",", 1)[1] + "\n" for i, r in enumerate(good)),
        "long_id": SUMMARY_HEADER + "y" * 10_000 + "," + good[0].split(",", 1)[1] + "\n" + body,
        "id_with_comma": SUMMARY_HEADER + '"a,b",' + good[0].split(",", 1)[1] + "\n" + body,
        "id_empty": SUMMARY_HEADER + "," + good[0].split(",", 1)[1] + "\n" + body,
        "empty": "",
        "header_only": SUMMARY_HEADER,
        "missing_column": "customer_id,frequency,recency\n1,1,1\n",
        "duplicate_header": SUMMARY_HEADER.strip() + ",T\n" + "".join(
            r + ",5\n" for r in good),
        "extra_columns": SUMMARY_HEADER.strip() + ",extra\n" + "".join(r + ",z\n" for r in good),
        "short_row": SUMMARY_HEADER + body + "x,1,2\n",
        "long_echo": SUMMARY_HEADER + body + "x,1,2," + "7" * 3000 + "x,4\n",
        "binary": bytes(range(255, -1, -1)) * 8,
    }
    return {k: v if isinstance(v, bytes) else v.encode() for k, v in files.items()}


def discrete(d: Path) -> dict[str, bytes]:
    good = (DATA / "donations.csv").read_text()
    head = "frequency,recency,n_periods,weights\n"
    files = {
        "good": good,
        "x_above_n": head + "7,7,6,10\n",
        "n_max": head + "1,1,4294967295,10\n0,0,4294967295,5\n",
        "n_large": head + "1,1,10000000,10\n0,0,10000000,5\n",
        "weight_zero": good + "1,1,6,0\n",
        "weight_nan": good + "1,1,6,NaN\n",
        "recency_zero_with_x": good + "2,0,6,3\n",
        "fraction": good + "1.5,2,6,3\n",
        "negative": good + "-1,2,6,3\n",
        "empty": "",
        "header_only": head,
        "missing_column": "frequency,recency\n1,1\n",
        "crlf": good.replace("\n", "\r\n"),
        "cr_only": good.replace("\n", "\r"),
        "one_row": head + "6,6,6,100\n",
    }
    return {k: v.encode() for k, v in files.items()}


REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]


def survival(d: Path) -> dict[str, bytes]:
    head = "cohort,period,alive\n"
    good = head + "".join(f"regular,{t},{v}\n" for t, v in enumerate(REGULAR))
    files = {
        "good": good,
        "increasing": head + "a,0,100\na,1,120\na,2,90\n",
        "negative": head + "a,0,100\na,1,-5\n",
        "nan": head + "a,0,100\na,1,NaN\n",
        "gap": head + "a,0,100\na,2,50\n",
        "period_max": head + "a,0,100\na,4294967295,50\n",
        "only_period_zero": head + "a,0,100\n",
        "all_dead": head + "a,0,100\na,1,0\na,2,0\n",
        "no_one_acquired": head + "a,0,0\na,1,0\n",
        "huge_counts": head + "a,0,1e300\na,1,5e299\n",
        "empty_cohort_name": head + ",0,100\n,1,50\n",
        "long_name": head + f"{'n' * 10_000},0,100\n{'n' * 10_000},1,50\n",
        "empty": "",
        "header_only": head,
        "crlf": good.replace("\n", "\r\n"),
        "binary": bytes(range(256)).decode("latin-1"),
    }
    return {k: v.encode("utf-8", "surrogateescape") for k, v in files.items()}


def write_corpus(root: Path) -> dict[str, dict[str, str]]:
    corpus = {}
    for kind, make in [("log", transaction_logs), ("summary", summaries),
                       ("discrete", discrete), ("survival", survival)]:
        folder = root / kind
        folder.mkdir()
        corpus[kind] = {}
        for name, content in make(folder).items():
            path = folder / f"{name}.csv"
            path.write_bytes(content)
            corpus[kind][name] = str(path)
    rules = root / "rules"
    rules.mkdir()
    corpus["rules"] = {}
    for name, text in {
        "good": RULES.read_text(),
        "empty": "",
        "garbage": "{not json",
        "array": "[1,2,3]",
        "negative_threshold": RULES.read_text().replace('"min_value": "', '"min_value": "-'),
        "long_string": '{"name": "' + "r" * 10_000 + '"}',
    }.items():
        path = rules / f"{name}.json"
        path.write_text(text)
        corpus["rules"][name] = str(path)
    params = root / "params"
    params.mkdir()
    corpus["params"] = {}
    for name, text in {
        "good": '{"model": "bg-nbd", "parameters": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, "unit": 7}',
        "negative": '{"model": "bg-nbd", "parameters": {"r": -1, "alpha": 4.4, "a": 0.8, "b": 2.4}, "unit": 7}',
        "huge": '{"model": "bg-nbd", "parameters": {"r": 1e300, "alpha": 1e-300, "a": 1e300, "b": 1e-300}, "unit": 7}',
        "missing": '{"model": "bg-nbd", "parameters": {"r": 0.2}, "unit": 7}',
        "wrong_model": '{"model": "pareto-nbd", "parameters": {"r": 0.2, "alpha": 4, "s": 1, "beta": 2}, "unit": 7}',
        "wrong_unit": '{"model": "bg-nbd", "parameters": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, "unit": 1}',
        "old_form": '{"model": "bg-nbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}}',
        "garbage": "\x00\x01 not json",
        "empty": "",
    }.items():
        path = params / f"{name}.json"
        path.write_text(text)
        corpus["params"][name] = str(path)
    keys = root / "keys"
    keys.mkdir()
    corpus["keys"] = {}
    for name, content in {
        "hex": b"3f6c1a9d0b7e42c58d1e6f3a2b9c4d7e8f0a1b2c3d4e5f60718293a4b5c6d7e8\n",
        "raw32": bytes(range(200, 232)),
        "binary_long": bytes(range(256)) * 4,
        "empty": b"",
        "newline_only": b"\n",
        "short": b"k" * 31 + b"\r\n",
        "huge": b"k" * (2 << 20),
    }.items():
        path = keys / name
        path.write_bytes(content)
        corpus["keys"][name] = str(path)
    # Consent files for `--consents`: good ones, and hostile ones each refused naming the file.
    consents = root / "consents"
    consents.mkdir()
    corpus["consents"] = {}
    head = "customer_id,purpose,given,withdrawn\n"
    for name, content in {
        # Customer 3's consent covers every day a hostile --consent-date may name.
        "good": head + "1,marketing_contact,1997-01-01,\n2,profiling,1997-01-01,1999-01-01\n"
        "3,profiling,0001-01-01,\n3,marketing_contact,0001-01-01,\n",
        "no_withdrawn_column": "customer_id,purpose,given\n1,marketing_contact,1997-01-01\n"
        "1,profiling,1997-01-01\n",
        "empty": "",
        "header_only": head,
        "backwards": head + "1,profiling,1997-05-01,1997-04-01\n",
        "bad_date": head + "1,profiling,1997-02-30,\n",
        "blank_purpose": head + "1, ,1997-01-01,\n",
        "long_purpose": head + "1," + "p" * 5000 + ",1997-01-01,\n",
        "control_purpose": head + "1,a\x01b,1997-01-01,\n",
        "blank_id": head + " ,profiling,1997-01-01,\n",
        "missing_given": "customer_id,purpose\n1,profiling\n",
        "binary": "\x00\xff\xfe garbage \x00\n",
        "ragged": head + "1,profiling\n",
    }.items():
        path = consents / f"{name}.csv"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        corpus["consents"][name] = str(path)
    corpus["consents"]["folder"] = str(consents)
    corpus["consents"]["absent"] = str(consents / "absent.csv")
    # Referral files for `--referrals`: a good one, and hostile ones each refused naming the file.
    referrals = root / "referrals"
    referrals.mkdir()
    corpus["referrals"] = {}
    head = "referrer,referred,date,channel\n"
    for name, content in {
        "good": head + "1,4,1997-01-01,web\n",
        "no_channel_column": "referrer,referred,date\n1,4,1997-01-01\n",
        "empty": "",
        "header_only": head,
        "self": head + "1,1,1997-01-01,\n",
        "unknown": head + "1,999999,1997-01-01,\n",
        "late": head + "1,4,1997-12-01,\n",
        "cycle": head + "1,4,1997-01-01,\n4,1,1997-01-01,\n",
        "twice": head + "1,4,1997-01-01,\n2,4,1997-01-01,\n",
        "bad_date": head + "1,4,1997-02-30,\n",
        "long_channel": head + "1,4,1997-01-01," + "c" * 5000 + "\n",
        "control_channel": head + "1,4,1997-01-01,a\x01b\n",
        "binary": "\x00\xff\xfe garbage \x00\n",
        "ragged": head + "1,4\n",
    }.items():
        path = referrals / f"{name}.csv"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        corpus["referrals"][name] = str(path)
    # Attribute files for `clv profile --attributes`: a good one (the ids of the good summary),
    # and hostile ones each refused naming the file and line, or profiled with a reason.
    attributes = root / "attributes"
    attributes.mkdir()
    corpus["attributes"] = {}
    head = "customer_id,age,region\n"
    good_ids = [r.split(",", 1)[0] for r in good_summary_rows()]
    good_attributes = head + "".join(f"{i},{20 + int(i) % 50},{['n', 's', 'e'][int(i) % 3]}\n"
                                     for i in good_ids)
    for name, content in {
        "good": good_attributes,
        "missing_cells": head + "".join(f"{i},,\n" if int(i) % 3 == 0 else f"{i},30,n\n"
                                        for i in good_ids),
        "constant": head + "".join(f"{i},30,n\n" for i in good_ids),
        "all_empty": head + "".join(f"{i},,\n" for i in good_ids),
        "unknown_ids": head + "".join(f"x{i},30,n\n" for i in good_ids),
        "many_levels": head + "".join(f"{i},30,level-{i}\n" for i in good_ids) * 1,
        "empty": "",
        "header_only": head,
        "id_only": "customer_id\n1\n",
        "duplicate_id": head + "1,30,n\n1,31,s\n",
        "duplicate_column": "customer_id,age,age\n1,30,31\n",
        "blank_column": "customer_id,,region\n1,30,n\n",
        "blank_id": head + " ,30,n\n",
        "control_label": head + "1,30,a\x01b\n",
        "long_label": head + "1,30," + "l" * 5000 + "\n",
        "huge_number": head + "1,1e400,n\n2,30,s\n",
        "nan_column": head + "1,NaN,n\n2,inf,s\n",
        "ragged": head + "1,30\n",
        "binary": "\x00\xff\xfe garbage \x00\n",
    }.items():
        path = attributes / f"{name}.csv"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        corpus["attributes"][name] = str(path)
    corpus["attributes"]["folder"] = str(attributes)
    corpus["attributes"]["absent"] = str(attributes / "absent.csv")
    segment_files = root / "segments"
    segment_files.mkdir()
    corpus["segments"] = {}
    head = "customer_id,segment\n"
    for name, content in {
        "good": head + "".join(f"{i},{'ab'[int(i) % 2]}\n" for i in good_ids),
        "partial": head + "1,a\n2,b\n",
        "conflict": head + "1,a\n1,b\n",
        "blank_segment": head + "1, \n",
        "control_segment": head + "1,a\x01b\n",
        "no_segment_column": "customer_id,label\n1,a\n",
        "empty": "",
        "header_only": head,
        "binary": "\x00\xff\xfe garbage \x00\n",
    }.items():
        path = segment_files / f"{name}.csv"
        path.write_bytes(content.encode("utf-8", "surrogateescape"))
        corpus["segments"][name] = str(path)
    corpus["referrals"]["folder"] = str(referrals)
    corpus["referrals"]["absent"] = str(referrals / "absent.csv")
    corpus["keys"]["folder"] = str(keys)
    corpus["keys"]["absent"] = str(keys / "absent")
    # A 1 MB id: pseudonymised like any other.
    huge_id = root / "huge_id.csv"
    huge_id.write_text(LOG_HEADER + "i" * (1 << 20) + ",1997-01-05,10\n1,1997-01-06,3\n")
    corpus["huge_id"] = str(huge_id)
    # A large log, so that a closed pipe is hit while the tool is still writing.
    big = root / "big_log.csv"
    with big.open("w") as f:
        f.write(LOG_HEADER)
        for i in range(60_000):
            f.write(f"{i},1997-{1 + i % 12:02d}-{1 + i % 28:02d},{i % 50}.{i % 100:02d}\n")
    corpus["big_log"] = str(big)
    return corpus


# ---------------------------------------------------------------------------------------------
# The cases.

def file_cases(corpus: dict) -> list[Case]:
    cases = []
    for name, path in corpus["log"].items():
        ok = "ok" if name in ("good", "bom", "crlf", "quoted", "extra_columns") else "any"
        cases += [
            Case(f"summarize {name}", ["summarize", "--transactions", path, "--end", "1997-09-30"],
                 "csv", [path], expect=ok),
            Case(f"summarize weeks holdout {name}",
                 ["summarize", "--transactions", path, "--end", "1997-06-30", "--unit", "weeks",
                  "--holdout-end", "1997-09-30"], "csv", [path], expect=ok),
            Case(f"kpi {name}", ["kpi", "--transactions", path, "--end", "1997-09-30"], "json",
                 [path], expect=ok),
            Case(f"tiers {name}", ["tiers", "--transactions", path, "--rules", str(RULES),
                                   "--as-of", "1997-09-30"], "csv", [path], expect=ok),
            Case(f"report {name}", ["report", "--transactions", path, "--end", "1997-09-30",
                                    "--unit", "weeks"], "json", [path], expect=ok),
            Case(f"validate {name}", ["validate", "--transactions", path, "--calibration-end",
                                      "1997-05-31", "--end", "1997-09-30", "--model", "bg-nbd"],
                 "json", [path], expect=ok),
            Case(f"bridge {name}", ["bridge", "--transactions", path, "--from", "1997-06-30",
                                    "--to", "1997-09-30"], "json", [path]),
        ]
        # Only the customer column is read: bad dates and amounts pass through unchanged.
        cases.append(Case(f"pseudonymize {name}",
                          ["pseudonymize", "--transactions", path, "--key-file",
                           corpus["keys"]["hex"]], "csv", [path],
                          expect="ok" if ok == "ok" or name.startswith(("date_", "amount_", "kind_"))
                          else "any"))
    for name, path in corpus["summary"].items():
        ok = "ok" if name in ("good", "bom", "crlf", "quoted", "extra_columns", "weights") else "any"
        for method in ["rfm", "abc", "lifecycle", "kmeans"]:
            cases.append(Case(f"segment {method} {name}",
                              ["segment", "--summary", path, "--method", method], "csv", [path],
                              expect=ok if name != "weights" else "any"))
        for model in ["bg-nbd", "mbg-nbd", "pareto-nbd", "gamma-gamma"]:
            cases.append(Case(f"fit {model} {name}",
                              ["fit", "--summary", path, "--model", model], "json", [path],
                              expect=ok))
        for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"]:
            cases.append(Case(f"predict {model} {name}",
                              ["predict", "--summary", path, "--model", model, "--horizon", "52"],
                              "csv", [path], expect=ok))
    attributes = corpus["attributes"]["good"]
    for name, path in corpus["summary"].items():
        ok = "ok" if name in ("good", "bom", "crlf", "quoted", "extra_columns", "weights") else "any"
        cases.append(Case(f"profile {name}", ["profile", "--summary", path, "--attributes",
                                              attributes], "json", [path], expect=ok))
    for name, path in corpus["discrete"].items():
        cases.append(Case(f"fit bg-bb {name}", ["fit", "--model", "bg-bb", "--summary", path],
                          "json", [path], expect="ok" if name in ("good", "crlf") else "any"))
    for name, path in corpus["survival"].items():
        for model in ["sbg", "bdw"]:
            cases.append(Case(f"fit {model} {name}",
                              ["fit", "--model", model, "--survival", path], "json", [path],
                              expect="ok" if name in ("good", "crlf") else "any"))
            cases.append(Case(f"fit {model} periods 5 {name}",
                              ["fit", "--model", model, "--survival", path, "--periods", "5"],
                              "json", [path], expect="ok" if name in ("good", "crlf") else "any"))
    log = corpus["log"]["good"]
    for name, path in corpus["rules"].items():
        cases.append(Case(f"tiers rules {name}", ["tiers", "--transactions", log, "--rules", path,
                                                   "--as-of", "1997-09-30"], "csv", [path],
                          expect="ok" if name == "good" else "any"))
    summary = corpus["summary"]["good"]
    for name, path in corpus["params"].items():
        cases.append(Case(f"predict params {name}",
                          ["predict", "--summary", summary, "--model", "bg-nbd", "--horizon", "10",
                           "--params", path], "csv", [path], flags=["--params"],
                          expect={"good": "ok", "huge": "any"}.get(name, "fail")))
    return cases


HOSTILE_NUMBERS = ["-1", "0", "1e300", "1e-300", "1e400", "NaN", "nan", "inf", "-inf", "1_000",
                   "+5", "1e3", "0x10", "", " ", "4294967295", "4294967296", "1e12", "1.5",
                   "-0", "9" * 400]
HOSTILE_DATES = ["9999-12-31", "0000-00-00", "1997-02-30", "99999-01-01", "1997-1-1", "",
                 "1990-01-01", "0001-01-01", "not a date " * 20]


def flag_cases(corpus: dict) -> list[Case]:
    log = corpus["log"]["good"]
    summary = corpus["summary"]["good"]
    survival_file = corpus["survival"]["good"]
    sample = str(DATA / "cdnow_sample_transactions.csv")
    cases = []

    def add(name, args, output, flag):
        # A value the tool accepts may still fail on the data: then the file must be named.
        files = [a for a in args if a in (log, summary, survival_file, sample)]
        cases.append(Case(name, args, output, files, [flag]))

    for v in HOSTILE_NUMBERS:
        add(f"predict --horizon {v!r}", ["predict", "--summary", summary, "--model", "bg-nbd",
                                         "--horizon", v], "csv", "--horizon")
        add(f"predict --discount {v!r}", ["predict", "--summary", summary, "--model", "bg-nbd",
                                          "--horizon", "10", "--discount", v], "csv", "--discount")
        add(f"predict --margin {v!r}", ["predict", "--summary", summary, "--model", "pareto-nbd",
                                        "--horizon", "10", "--margin", v], "csv", "--margin")
        add(f"fit --penalty {v!r}", ["fit", "--summary", summary, "--model", "bg-nbd",
                                     "--penalty", v], "json", "--penalty")
        add(f"segment --k {v!r}", ["segment", "--summary", summary, "--method", "kmeans",
                                   "--k", v], "csv", "--k")
        add(f"segment --seed {v!r}", ["segment", "--summary", summary, "--method", "kmeans",
                                      "--seed", v], "csv", "--seed")
        add(f"kpi --period-days {v!r}", ["kpi", "--transactions", log, "--end", "1997-09-30",
                                         "--period-days", v], "json", "--period-days")
        for model in ["sbg", "bdw"]:
            add(f"fit {model} --periods {v!r}", ["fit", "--model", model, "--survival",
                                                 survival_file, "--periods", v], "json",
                "--periods")
        add(f"report --margin {v!r}", ["report", "--transactions", log, "--end", "1997-09-30",
                                       "--unit", "weeks", "--margin", v], "json", "--margin")
        add(f"report --discount {v!r}", ["report", "--transactions", log, "--end", "1997-09-30",
                                         "--unit", "weeks", "--discount", v], "json",
            "--discount")
    for v in HOSTILE_DATES:
        add(f"summarize --end {v!r}", ["summarize", "--transactions", log, "--end", v], "csv",
            "--end")
        add(f"summarize --holdout-end {v!r}", ["summarize", "--transactions", log, "--end",
                                               "1997-06-30", "--holdout-end", v], "csv",
            "--holdout-end")
        add(f"kpi --end {v!r}", ["kpi", "--transactions", log, "--end", v], "json", "--end")
        add(f"tiers --as-of {v!r}", ["tiers", "--transactions", log, "--rules", str(RULES),
                                     "--as-of", v], "csv", "--as-of")
        add(f"report --end {v!r}", ["report", "--transactions", log, "--end", v, "--unit",
                                    "weeks"], "json", "--end")
        add(f"validate --end {v!r}", ["validate", "--transactions", log, "--calibration-end",
                                      "1997-05-31", "--end", v, "--model", "bg-nbd"], "json",
            "--end")
        add(f"validate --calibration-end {v!r}",
            ["validate", "--transactions", log, "--calibration-end", v, "--end", "1997-09-30",
             "--model", "bg-nbd"], "json", "--calibration-end")
    # The findings of the issue on the CDNOW sample itself.
    for sub in ["kpi", "report"]:
        add(f"{sub} sample --end 9999-12-31", [sub, "--transactions", sample, "--end",
                                               "9999-12-31"], "json", "--end")
    add("validate sample --end 9999-12-31",
        ["validate", "--transactions", sample, "--calibration-end", "1997-09-30", "--end",
         "9999-12-31", "--model", "bg-nbd"], "json", "--end")
    for sub, args in {
        "summarize": ["--transactions", log, "--end", "1997-09-30"],
        "predict": ["--summary", summary, "--model", "bg-nbd", "--horizon", "1"],
        "segment": ["--summary", summary, "--method", "rfm"],
        "fit": ["--summary", summary, "--model", "bg-nbd"],
    }.items():
        add(f"{sub} unknown flag", [sub, *args, "--bogus", "1"], "csv", "--bogus")
        add(f"{sub} flag twice", [sub, *args, args[0], args[1]], "csv", args[0])
        add(f"{sub} flag without value", [sub, *args[:-1]], "csv", args[-2])
        add(f"{sub} long unknown flag", [sub, *args, "--" + "z" * 5000, "1"], "csv", "--zzz")
    for sub, args in {
        "fit": ["--summary", summary],
        "predict": ["--summary", summary, "--horizon", "1"],
        "report": ["--transactions", log, "--end", "1997-09-30"],
        "validate": ["--transactions", log, "--calibration-end", "1997-05-31", "--end",
                     "1997-09-30"],
    }.items():
        add(f"{sub} --model bogus", [sub, *args, "--model", "b" * 500], "json", "--model")
    add("segment --method bogus", ["segment", "--summary", summary, "--method", "x"], "csv",
        "--method")
    add("summarize --unit months", ["summarize", "--transactions", log, "--end", "1997-09-30",
                                    "--unit", "months"], "csv", "--unit")
    # The input and output flags of issue 14: a bad value is refused naming its flag.
    base = ["summarize", "--transactions", log, "--end", "1997-09-30"]
    for flag, values in {
        "--delimiter": ["", ";;", "\"", "\n", "tabs", "é"],
        "--input-format": ["", "xlsx", "PARQUET"],
        "--format": ["", "xml", "svg"],
        "--output": ["", "/nonexistent-dir/out.csv"],
        "--time-zone": ["", "+99:00", "CET", "+5:30"],
        "--date-format": ["", "%Q", "%d/%m/%Y"],
        "--customer-col": ["", "nope"],
        "--date-col": ["nope"],
    }.items():
        for v in values:
            cases.append(Case(f"summarize {flag} {v[:20]!r}", [*base, flag, v], "csv", [log],
                              [flag, "header has no", "does not match"], expect="fail"))
    for v in ["", "x", "-1"]:
        add(f"plot --chart {v!r}", ["plot", "--transactions", log, "--calibration-end",
                                    "1997-09-30", "--chart", v], "svg", "--chart")
    # `clv pseudonymize`: hostile key files are refused naming --key-file; a missing column or
    # the log as its own output are refused.
    for name, key in corpus["keys"].items():
        cases.append(Case(f"pseudonymize --key-file {name}",
                          ["pseudonymize", "--transactions", log, "--key-file", key], "csv",
                          [log], ["--key-file"],
                          expect="ok" if name in ("hex", "raw32", "binary_long") else "fail"))
    pseudo = ["pseudonymize", "--transactions", log, "--key-file", corpus["keys"]["hex"]]
    for v in ["", "nope", "amount,date", "c" * 5000]:
        cases.append(Case(f"pseudonymize --customer-col {v[:20]!r}", [*pseudo, "--customer-col", v],
                          "csv", [log], ["--customer-col", "header has no"], expect="fail"))
    cases.append(Case("pseudonymize --customer-col amount", [*pseudo, "--customer-col", "amount"],
                      "csv", [log], expect="ok"))
    for v in ["", "/nonexistent-dir/out.csv", log]:
        cases.append(Case(f"pseudonymize --output {v[-20:]!r}", [*pseudo, "--output", v], "csv",
                          [log], ["--output"], expect="fail"))
    cases.append(Case("pseudonymize huge id", ["pseudonymize", "--transactions",
                                                corpus["huge_id"], "--key-file",
                                                corpus["keys"]["hex"]], "csv",
                      [corpus["huge_id"]], expect="ok"))
    # `--consents FILE --purpose P`: hostile consent files are refused naming the file or flag;
    # good ones restrict the rows. A purpose is a short code.
    for name, path in corpus["consents"].items():
        good = name in ("good", "no_withdrawn_column")
        cases.append(Case(f"report --consents {name}",
                          ["report", "--transactions", log, "--end", "1997-09-30", "--consents",
                           path, "--purpose", "profiling"], "json", [path], [],
                          expect="ok" if good else "fail"))
        cases.append(Case(f"segment --consents {name}",
                          ["segment", "--summary", summary, "--method", "rfm", "--consents", path,
                           "--purpose", "marketing_contact", "--consent-date", "1997-09-30"],
                          "csv", [path], [], expect="ok" if good else "fail"))
    for v in ["", " ", "a\tb", "p" * 65]:
        cases.append(Case(f"report --purpose {v[:20]!r}",
                          ["report", "--transactions", log, "--end", "1997-09-30", "--consents",
                           corpus["consents"]["good"], "--purpose", v], "json", [],
                          ["--purpose"], expect="fail"))
    for v in HOSTILE_DATES:
        add(f"segment --consent-date {v!r}",
            ["segment", "--summary", summary, "--method", "rfm", "--consents",
             corpus["consents"]["good"], "--purpose", "profiling", "--consent-date", v], "csv",
            "--consent-date")
    # `--referrals FILE`: hostile referral files are refused naming the file (a line, or the flag).
    for name, path in corpus["referrals"].items():
        good = name in ("good", "no_channel_column")
        cases.append(Case(f"report --referrals {name}",
                          ["report", "--transactions", log, "--end", "1997-09-30", "--referrals",
                           path], "json", [path], [], expect="ok" if good else "fail"))
        cases.append(Case(f"bridge --referrals {name}",
                          ["bridge", "--transactions", log, "--from", "1997-06-30", "--to",
                           "1997-09-30", "--referrals", path], "json", [path], [],
                          expect="ok" if good else "fail"))
    for v in HOSTILE_DATES + ["1997-09-30", "1996-01-01"]:
        add(f"report --previous-review {v!r}",
            ["report", "--transactions", log, "--end", "1997-09-30", "--previous-review", v],
            "json", "--previous-review")
    # `clv profile`: hostile attribute and segment files are refused naming the file (and a
    # line) or profiled; hostile numbers are refused naming their flag.
    profile = ["profile", "--summary", summary, "--attributes", corpus["attributes"]["good"]]
    for name, path in corpus["attributes"].items():
        good = name in ("good", "missing_cells", "constant", "unknown_ids", "many_levels")
        cases.append(Case(f"profile --attributes {name}",
                          ["profile", "--summary", summary, "--attributes", path], "json",
                          [path], ["--attributes"], expect="ok" if good else "fail"))
    for name, path in corpus["segments"].items():
        good = name in ("good", "partial")
        cases.append(Case(f"profile --segments {name}", [*profile, "--segments", path], "json",
                          [path], [], expect="ok" if good else "fail"))
    for v in HOSTILE_NUMBERS:
        for flag in ["--interval", "--margin", "--discount"]:
            add(f"profile {flag} {v!r}", [*profile, flag, v], "json", flag)
    add("profile --model bogus", [*profile, "--model", "b" * 500], "json", "--model")
    add("profile --unit months", [*profile, "--unit", "months"], "json", "--unit")
    # `clv fit --covariates` and `clv predict --covariates`: the same hostile attribute files
    # are fitted or refused naming the file; hostile lists are refused naming their flag.
    for name, path in corpus["attributes"].items():
        for model in ["pareto-nbd", "gamma-gamma"]:
            cases.append(Case(f"fit {model} --covariates {name}",
                              ["fit", "--summary", summary, "--model", model, "--covariates",
                               path], "json", [path, summary], ["--covariates"],
                              expect="any"))
        cases.append(Case(f"predict --covariates {name}",
                          ["predict", "--summary", summary, "--model", "bg-nbd", "--horizon",
                           "10", "--covariates", path], "csv", [path, summary],
                          ["--covariates"], expect="any"))
    covariates = ["fit", "--summary", summary, "--model", "bg-nbd", "--covariates",
                  corpus["attributes"]["good"]]
    for flag in ["--purchase-covariates", "--dropout-covariates", "--constrain"]:
        for v in ["", ",", "none,x", "\u00e9\u0301", "a" * 5000, "age,age"]:
            cases.append(Case(f"fit {flag} {v[:20]!r}", [*covariates, flag, v], "json",
                              [summary, corpus["attributes"]["good"]], [flag], expect="any"))
    for v in HOSTILE_NUMBERS:
        add(f"fit --covariates --penalty {v!r}", [*covariates, "--penalty", v], "json",
            "--penalty")
    # `clv bridge`: hostile dates, rules and rates are refused naming their flag.
    bridge = ["bridge", "--transactions", log, "--from", "1997-06-30", "--to", "1997-09-30"]
    for v in HOSTILE_DATES + ["1997-09-30", "1996-01-01"]:
        add(f"bridge --from {v!r}", ["bridge", "--transactions", log, "--from", v, "--to",
                                     "1997-09-30"], "json", "--from")
        add(f"bridge --to {v!r}", ["bridge", "--transactions", log, "--from", "1997-06-30",
                                   "--to", v], "json", "--to")
    for v in HOSTILE_NUMBERS:
        for flag in ["--lost-below", "--lost-after-days", "--margin", "--discount"]:
            add(f"bridge {flag} {v!r}", [*bridge, flag, v], "json", flag)
    # `clv sql` writes a query: names that could escape their quotes are refused by flag.
    sql = ["sql", "--dialect", "postgres", "--table", "t", "--end", "1997-09-30"]
    for v in ["", "a\"b", "a`b", "x\ny", "t" * 10_000, "a..b", "\x01", "Zoë 顧客"]:
        for flag in ["--table", "--customer-col", "--date-col", "--amount-col", "--kind-col"]:
            args = [a for a in sql if a not in ("--table", "t")] + [flag, v]
            if flag != "--table":
                args += ["--table", "t"]
            add(f"sql {flag} {v[:20]!r}", args, "sql", flag)
    for v in HOSTILE_DATES + ["0001-01-01", "1997-09-29"]:
        add(f"sql --end {v!r}", [*sql[:-1], v], "sql", "--end")
        add(f"sql --holdout-end {v!r}", [*sql, "--holdout-end", v], "sql", "--holdout-end")
    for v in ["mysql", "", "DataFusion", "x" * 5000]:
        add(f"sql --dialect {v[:20]!r}", ["sql", "--dialect", v, *sql[3:]], "sql", "--dialect")
    add("sql --returns bogus", [*sql, "--kind-col", "k", "--returns", "x"], "sql", "--returns")
    add("sql --returns without --kind-col", [*sql, "--returns", "net"], "sql", "--returns")
    add("sql --unit months", [*sql, "--unit", "months"], "sql", "--unit")
    add("unknown subcommand", ["frobnicate" * 50], "csv", "subcommand")
    add("no subcommand", [], "csv", "usage")
    return cases


def control_cases() -> list[Case]:
    sample = str(DATA / "cdnow_sample_transactions.csv")
    summary = str(DATA / "cdnow_summary.csv")
    return [
        Case("control summarize sample", ["summarize", "--transactions", sample, "--end",
                                          "1997-09-30", "--unit", "weeks"], "csv", expect="ok"),
        Case("control sql spark", ["sql", "--dialect", "spark", "--table", "db.transactions",
                                   "--end", "1997-09-30", "--unit", "weeks", "--holdout-end",
                                   "1998-06-30", "--kind-col", "kind"], "sql", expect="ok"),
        Case("control predict summary", ["predict", "--summary", summary, "--model", "bg-nbd",
                                         "--horizon", "52"], "csv", expect="ok"),
        Case("control profile summary", ["profile", "--summary", summary, "--attributes",
                                         summary], "json", expect="ok"),
        Case("control fit bg-bb donations", ["fit", "--model", "bg-bb", "--summary",
                                             str(DATA / "donations.csv")], "json", expect="ok"),
        Case("control validate sample", ["validate", "--transactions", sample,
                                         "--calibration-end", "1997-09-30", "--end", "1998-06-30",
                                         "--unit", "weeks", "--model", "bg-nbd"], "json",
             expect="ok"),
    ]


# ---------------------------------------------------------------------------------------------
# Running and judging.

def garbage(case: Case, out: bytes) -> str | None:
    """Why a successful output is garbage, or None."""
    if len(out) > MAX_OUTPUT:
        return f"{len(out) >> 20} MB of output"
    text = out.decode("utf-8", "replace")
    if not text.strip():
        return "exit 0 with an empty body"
    if case.output == "sql":
        return None if text.startswith("WITH\n") else "output is not a WITH query"
    if case.output == "json":
        def bad_constant(c):
            raise ValueError(f"{c} in JSON")
        try:
            value = json.loads(text, parse_constant=bad_constant)
        except ValueError as e:
            return f"output is not JSON: {str(e)[:100]}"
        if value in ({}, [], None):
            return "exit 0 with an empty JSON body"
        return None
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        return "exit 0 with a header and no rows"
    width = len(rows[0])
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            return f"output line {i} has {len(row)} fields, the header {width}"
        # `pseudonymize` copies every field but the id as it is: a NaN there was the input's.
        for v in row[1:] if case.args[0] != "pseudonymize" else []:
            if v.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
                return f"output line {i} holds {v}"
    return None


def located(case: Case, message: str) -> str | None:
    """Why an error message lacks its location, or None: it names a flag of the case, or a file
    of the case with a line, a flag or the step that failed on the data as a whole."""
    if any(f in message for f in case.flags):
        return None
    names_file = any(f in message for f in case.files)
    if names_file and ("line" in message or "--" in message
                       or any(step in message for step in WHOLE_DATA_STEPS)):
        return None
    if case.flags:
        return f"does not name {' or '.join(case.flags)}"
    if case.files and not names_file:
        return "does not name the file"
    return "names no line" if case.files else None


def run(clv: str, case: Case, timeout: float, log=None) -> tuple[Case, str | None, float]:
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([clv, *case.args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return case, f"hang: no exit after {timeout:.0f} s", time.monotonic() - start
        elapsed = time.monotonic() - start
        out.seek(0)
        stdout = out.read(MAX_OUTPUT + 1)
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
    first = next((l for l in stderr.splitlines() if l.startswith("clv: error:")), "")
    if log is not None:
        log.append(f"{case.name}: exit {rc}: {first[:300] or stdout[:80]!r}")
    if rc < 0:
        return case, f"killed by signal {signal.Signals(-rc).name}: {stderr[-200:]!r}", elapsed
    if rc == 101 or "panicked" in stderr:
        return case, f"panic: {stderr[-300:]!r}", elapsed
    if rc == 134 or "memory allocation" in stderr:
        return case, f"abort: {stderr[-300:]!r}", elapsed
    if rc == 0:
        if case.expect == "fail":
            return case, "succeeded where it must refuse", elapsed
        if case.args and case.args[0] in ("help", "-h", "--help"):
            return case, None, elapsed
        return case, garbage(case, stdout), elapsed
    if case.expect == "ok":
        return case, f"control failed (exit {rc}): {stderr[:300]!r}", elapsed
    if not case.args:
        return case, (None if "usage" in stderr else "no usage"), elapsed
    if not first:
        return case, f"exit {rc} without a 'clv: error:' line: {stderr[:200]!r}", elapsed
    if len(first) > MAX_ERROR_LINE:
        return case, f"error line of {len(first)} characters: {first[:120]!r}…", elapsed
    why = located(case, first)
    if why:
        return case, f"error {why}: {first!r}", elapsed
    return case, None, elapsed


def closed_pipe_cases(clv: str, corpus: dict, timeout: float) -> list[tuple[str, str | None]]:
    """`clv ... | head -1`: the tool must stop quietly, exit 0 or by SIGPIPE."""
    big = corpus["big_log"]
    summary = str(DATA / "cdnow_summary.csv")
    runs = {
        "summarize | head": ["summarize", "--transactions", big, "--end", "1997-12-31"],
        "tiers | head": ["tiers", "--transactions", big, "--rules", str(RULES), "--as-of",
                         "1997-12-31"],
        "segment | head": ["segment", "--summary", summary, "--method", "rfm"],
        "predict | head": ["predict", "--summary", summary, "--model", "bg-nbd", "--horizon",
                           "52"],
        "pseudonymize | head": ["pseudonymize", "--transactions", big, "--key-file",
                                corpus["keys"]["hex"]],
        "report | head": ["report", "--transactions", str(DATA / "cdnow_sample_transactions.csv"),
                          "--end", "1997-09-30", "--unit", "weeks"],
    }
    results = []
    for name, args in runs.items():
        proc = subprocess.Popen([clv, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        proc.stdout.readline()
        proc.stdout.close()
        try:
            _, err = proc.communicate(timeout=timeout * 3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            results.append((name, "hang after the pipe closed"))
            continue
        err = err.decode("utf-8", "replace")
        ok_exit = proc.returncode in (0, 141, -signal.SIGPIPE)
        noisy = [l for l in err.splitlines() if "error" in l or "panicked" in l]
        why = None
        if not ok_exit or noisy:
            why = f"exit {proc.returncode}, stderr {err[:200]!r}"
        results.append((name, why))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clv", help="path of the clv binary")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the corpus folder")
    parser.add_argument("--filter", default="", help="run only cases whose name contains this")
    parser.add_argument("--verbose", action="store_true",
                        help="print every case's exit code and error line")
    args = parser.parse_args()
    clv = str(Path(args.clv).resolve())
    if not os.access(clv, os.X_OK):
        print(f"clv_fuzz: {clv} is not an executable", file=sys.stderr)
        return 2
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="clv-fuzz-"))
    try:
        corpus = write_corpus(root)
        cases = control_cases() + file_cases(corpus) + flag_cases(corpus)
        cases = [c for c in cases if args.filter in c.name]
        failures = []
        slowest = []
        log = [] if args.verbose else None
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for case, why, elapsed in pool.map(lambda c: run(clv, c, args.timeout, log), cases):
                slowest.append((elapsed, case.name))
                if why:
                    failures.append((case, why))
        pipes = [] if args.filter else closed_pipe_cases(clv, corpus, args.timeout)
        for name, why in pipes:
            if why:
                failures.append((Case(name, [], "csv"), why))
    finally:
        if args.keep:
            print(f"corpus kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    for line in sorted(log or []):
        print(line)
    total = len(cases) + len(pipes)
    elapsed = time.monotonic() - started
    print(f"clv_fuzz: {total} cases ({len(cases)} runs, {len(pipes)} closed pipes) in "
          f"{elapsed:.1f} s with {args.jobs} jobs")
    slowest.sort(reverse=True)
    print("slowest: " + ", ".join(f"{n} {t:.1f}s" for t, n in slowest[:3]))
    for case, why in failures:
        print(f"FAIL {case.name}: {why}")
        if case.args:
            print(f"     clv {' '.join(a if len(a) < 80 else a[:77] + '...' for a in case.args)}")
    print(f"clv_fuzz: {len(failures)} of {total} cases failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
