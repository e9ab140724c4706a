#!/usr/bin/env python3
"""Compares the figures sifa computes for a year with the report's figures
(tests/golden/cixi-2021-figures.tsv, a copy of ../shared/spec/): each spec key is an indicator code.

    scripts/check_spec.py --db FILE [--key_file F] [--sifa ./sifa] [--year 2021] [--org CODE]
                          [--allow-missing] [--keys a,b] [-- extra sifa flags]

Spec values: "12" exact; "-14.88%", "72.73%", "99.9%" exact to the digits written; ">50000",
">80%" strictly above; "50+" (50余) above and below 1.2 times; "1.78亿" (元) to the digits
written in 亿. Prints OK / MISMATCH / MISSING per key; exits 1 on any MISMATCH (and on MISSING
unless --allow-missing)."""

import argparse
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A copy of ../shared/spec/cixi-2021-figures.tsv kept in the repository, so that a clone checks
# itself wherever it is; tests/golden/README says where it comes from.
SPEC = HERE.parent / "tests" / "golden" / "cixi-2021-figures.tsv"


def load_spec(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def matches(spec, item):
    """(ok, explanation) for one spec value against a sifa item."""
    text, value = item.get("text"), item.get("value")
    if value is None:
        return False, "no value (%s)" % item.get("reason")
    s = spec.strip()
    pct = s.endswith("%")
    s = s.rstrip("%")
    if s.startswith(">"):
        return Decimal(text) > Decimal(s[1:]), "needs > %s" % s[1:]
    if s.endswith("+"):
        n = Decimal(s[:-1])
        return n < Decimal(text) < n * Decimal("1.2"), "needs %s余 (more than %s, less than %s)" % (n, n, n * Decimal("1.2"))
    if s.endswith("亿"):
        n = Decimal(s[:-1])
        digits = len(s[:-1].split(".")[1]) if "." in s else 0
        got = (Decimal(text) / Decimal(100000000)).quantize(Decimal(1).scaleb(-digits))
        return got == n, "%s亿 at %d digits" % (got, digits)
    if pct or "." in s:
        return Decimal(text) == Decimal(s), "exactly %s" % s
    return Decimal(text) == Decimal(s), "exactly %s" % s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--key_file")
    ap.add_argument("--sifa", default=str(HERE.parent / "sifa"))
    ap.add_argument("--year", default="2021")
    ap.add_argument("--org")
    ap.add_argument("--spec", default=str(SPEC))
    ap.add_argument("--keys")
    ap.add_argument("--allow-missing", action="store_true")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    common = ["--db", a.db] + (["--key_file", a.key_file] if a.key_file else []) + a.extra
    spec = load_spec(a.spec)
    if a.keys:
        wanted = set(a.keys.split(","))
        spec = [r for r in spec if r["key"] in wanted]
    defined = subprocess.run([a.sifa, "stats", "show", "--period", a.year, "--json"] + common +
                             (["--org", a.org] if a.org else []), capture_output=True, text=True)
    if defined.returncode != 0:
        sys.stderr.write(defined.stderr)
        raise SystemExit(2)
    items = {i["indicator"]: i for i in json.loads(defined.stdout)["items"]}
    bad = missing = 0
    for row in spec:
        item = items.get(row["key"])
        if item is None:
            missing += 1
            print("MISSING   %-44s %10s  (no indicator)" % (row["key"], row["value"]))
            continue
        ok, why = matches(row["value"], item)
        bad += not ok
        print("%-9s %-44s %10s  sifa %s  %s" % ("OK" if ok else "MISMATCH", row["key"], row["value"], item.get("text"),
                                               "" if ok else why))
    print("%d keys: %d OK, %d MISMATCH, %d MISSING" % (len(spec), len(spec) - bad - missing, bad, missing))
    sys.exit(1 if bad or (missing and not a.allow_missing) else 0)


if __name__ == "__main__":
    main()
