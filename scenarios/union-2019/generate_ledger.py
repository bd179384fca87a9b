#!/usr/bin/env python3
"""Writes the illustrative 2019 payment ledger (payments.csv), household register
(households.csv) and actual distribution (actual.csv) of the fictional union-2019 scenario,
with planted problems of every kind `fundsim audit` checks. Deterministic: re-running rewrites
the files identically. Everything is invented (see README.md); the planted rows are listed in
PLANTED.md, which this script also writes.

Usage: python3 scenarios/union-2019/generate_ledger.py   (from the repository root, or anywhere)
"""
import csv
import hashlib
import io
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def u(key, lo, hi):
    """A deterministic draw in [lo, hi] from a key (SHA-256)."""
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return lo + h % (hi - lo + 1)


def read(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return list(csv.DictReader(f))


units = read("units.csv")
factors = {r["unit_id"]: r for r in read("factors.csv")}
counties = [r["id"] for r in units if r["level"] == "county"]

FLAT_COUNTY = "990503"  # 戊二县 pays every living-aid payment at one amount (planted: flat)
HH_PER_COUNTY = 20

households = []  # dicts
for c in counties:
    dibao = int(factors[c]["dibao"])
    for k in range(1, HH_PER_COUNTY + 1):
        hid = f"{c}{k:03d}"
        r = u(hid + "cat", 0, 99)
        cat = "deep" if r < 40 else ("relative" if r < 90 else "accident")
        year = u(hid + "fy", 2016, 2018)
        filed = f"{year}-{u(hid + 'fm', 1, 12):02d}-{u(hid + 'fd', 1, 28):02d}"
        households.append(dict(household_id=hid, unit_id=c, category=cat, filed_on=filed, closed_on="", dibao_monthly=str(dibao)))

H = {h["household_id"]: h for h in households}

# register edits that make room for clean and planted timing rows
# filed during 2019 (clean: paid only after filing)
for hid, filed in [("990104005", "2019-05-15"), ("990202007", "2019-04-10"), ("990601003", "2019-08-20")]:
    H[hid]["filed_on"] = filed
# closed during 2019 (clean: paid only until closing)
for hid, closed in [("990101012", "2019-06-30"), ("990305004", "2019-07-31"), ("990702009", "2019-09-30"), ("990804002", "2019-06-30")]:
    H[hid]["closed_on"] = closed
# every household of the flat county has a category mix (deep and relative)
H[FLAT_COUNTY + "001"]["category"] = "deep"
H[FLAT_COUNTY + "002"]["category"] = "relative"

payments = []  # (payment_id, household_id, unit_id, date, kind, amount, planted)
seq = [0]


def pay(hid, unit, date, kind, amount, planted=""):
    seq[0] += 1
    payments.append([f"U19{seq[0]:05d}", hid, unit, date, kind, str(amount), planted])


def paid_on(h, date):
    return h["filed_on"] <= date and (h["closed_on"] == "" or date <= h["closed_on"])


QUARTER_DAYS = ["2019-03-15", "2019-06-15", "2019-09-15", "2019-12-15"]

for h in households:
    hid, c, cat = h["household_id"], h["unit_id"], h["category"]
    dibao = int(h["dibao_monthly"])
    # 送温暖 before the Spring Festival
    if paid_on(h, "2019-01-25") and u(hid + "w", 0, 9) < 8:
        pay(hid, c, "2019-01-25", "warmth", u(hid + "wa", 5, 20) * 100)
    # living aid, quarterly, tiered: deep 2 months of 低保 a quarter, relative 1.5, scaled 80–100% (差额)
    if cat in ("deep", "relative"):
        months = 2.0 if cat == "deep" else 1.5
        for q, d in enumerate(QUARTER_DAYS):
            if not paid_on(h, d):
                continue
            if c == FLAT_COUNTY:
                amount = 500
            else:
                amount = int(dibao * months * u(f"{hid}l{q}", 80, 100) / 100 / 10) * 10
            pay(hid, c, d, "living", amount)
    # education in September, medical any month
    if u(hid + "e", 0, 9) < 3 and paid_on(h, "2019-09-05"):
        pay(hid, c, "2019-09-05", "education", u(hid + "ea", 10, 30) * 100)
    if (cat == "accident" or u(hid + "m", 0, 9) < 2):
        d = f"2019-{u(hid + 'mm', 2, 11):02d}-{u(hid + 'md', 1, 28):02d}"
        if paid_on(h, d):
            pay(hid, c, d, "medical", u(hid + "ma", 5, 50) * 100)

# ---- planted problems ------------------------------------------------------------------------
# 1. unfiled: three households not in the register
for hid, c, d, kind, amt in [
    ("990203099", "990203", "2019-03-15", "living", 1200),
    ("990203099", "990203", "2019-06-15", "living", 1200),
    ("990402098", "990402", "2019-01-25", "warmth", 1000),
    ("990701097", "990701", "2019-09-15", "living", 900),
    ("990701097", "990701", "2019-12-15", "living", 900),
]:
    pay(hid, c, d, kind, amt, "unfiled")
# 2. before filing: filed 2019-05-15 / 2019-08-20, paid in March / June
pay("990104005", "990104", "2019-03-15", "living", 1300, "before_filing")
pay("990601003", "990601", "2019-06-15", "living", 1100, "before_filing")
# 3. after closing
pay("990101012", "990101", "2019-09-15", "living", 1500, "after_closing")
pay("990101012", "990101", "2019-12-15", "living", 1500, "after_closing")
pay("990804002", "990804", "2019-12-15", "living", 1000, "after_closing")
# 4. living aid over the yearly cap (deep 10 months, relative 8 months of 低保)
deep = next(h for h in households if h["category"] == "deep" and h["unit_id"] == "990302" and h["closed_on"] == "")
rel = next(h for h in households if h["category"] == "relative" and h["unit_id"] == "990602" and h["closed_on"] == "")
pay(deep["household_id"], "990302", "2019-11-20", "living", int(deep["dibao_monthly"]) * 4, "living_cap")
pay(rel["household_id"], "990602", "2019-11-20", "living", int(rel["dibao_monthly"]) * 4, "living_cap")
# 5. warmth payments over the per-visit cap (3,000)
pay("990301003", "990301", "2019-02-01", "warmth", 3500, "warmth_visit")
pay("990801006", "990801", "2019-02-02", "warmth", 4000, "warmth_visit")
# 6. warmth over the yearly cap (6,000) with no single visit over 3,000
wy = "990404008"
for i, row in enumerate(payments):
    if row[1] == wy and row[4] == "warmth":
        row[5] = "3000"
        row[6] = "warmth_year"
if not any(r[1] == wy and r[4] == "warmth" for r in payments):
    pay(wy, "990404", "2019-01-25", "warmth", 3000, "warmth_year")
pay(wy, "990404", "2019-09-28", "warmth", 3000, "warmth_year")
pay(wy, "990404", "2019-12-20", "warmth", 2000, "warmth_year")
# 7. the same household paid twice for the same purpose in a month
for hid in ["990502004", "990705003" if "990705003" in H else "990703003"]:
    h = H[hid]
    if h["category"] not in ("deep", "relative"):
        h["category"] = "relative"
    base = next((r for r in payments if r[1] == hid and r[4] == "living" and r[3] == "2019-06-15"), None)
    if base is None:
        pay(hid, h["unit_id"], "2019-06-15", "living", 800)
        base = payments[-1]
    base[6] = "duplicate (first)"
    pay(hid, h["unit_id"], "2019-06-28", "living", base[5], "duplicate")
# 8. flat: every living payment of FLAT_COUNTY is 500 (marked below)
# 9. out of scope
pay("990201002", "990201", "2019-05-20", "bonus", 2000, "scope")
pay("990201005", "990201", "2019-05-20", "bonus", 2000, "scope")
pay("990303001", "990303", "2019-10-10", "office", 4500, "scope")

# ledger order: by date, then payment id (as a bookkeeping export would be)
payments.sort(key=lambda r: (r[3], r[0]))
for r in payments:
    if r[2] == FLAT_COUNTY and r[4] == "living" and not r[6]:
        r[6] = "flat"

# a few dates in the other accepted formats (all clean rows)
fmt_rows = 0
for r in payments:
    if r[6] == "" and r[2] == "990803":
        y, m, d = r[3].split("-")
        r[3] = [f"{y}/{m}/{d}", f"{y}{m}{d}", f"{int(y)}年{int(m)}月{int(d)}日"][fmt_rows % 3]
        fmt_rows += 1


def write(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())


write(
    "households.csv",
    ["household_id", "unit_id", "category", "filed_on", "closed_on", "dibao_monthly"],
    [[h[k] for k in ["household_id", "unit_id", "category", "filed_on", "closed_on", "dibao_monthly"]] for h in households],
)
write("payments.csv", ["payment_id", "household_id", "unit_id", "date", "kind", "amount"], [r[:6] for r in payments])

# PLANTED.md: the planted rows with their ledger line numbers (header = line 1)
out = ["# union-2019: planted problems in payments.csv and actual.csv", "",
       "Written by `generate_ledger.py`. Line numbers count the header as line 1. Every other row is clean.", "",
       "| check | line | payment_id | household_id | unit_id | date | kind | amount |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
flat_lines = []
for i, r in enumerate(payments, start=2):
    if r[6] == "flat":
        flat_lines.append(i)
    elif r[6]:
        out.append(f"| {r[6]} | {i} | {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |")
out += ["", f"flat: every living-aid payment of {FLAT_COUNTY} (戊二县) is 500 yuan, to deep and relative households alike: "
        f"{len(flat_lines)} rows, lines {', '.join(map(str, flat_lines))}.", ""]
out += [
    "Rows of a hit: `living_cap` and `warmth_year` hits cite every payment of the kind to the household in",
    "the year (the planted row pushes the total over the cap); `duplicate` hits cite both payments of the",
    "month (the row marked `duplicate (first)` is the clean payment that the planted one repeats).",
    "",
    "## actual.csv",
    "",
    "The formula's amounts (`fundsim allocate`, `pool = total` rows of both stages) with five planted",
    "changes; line numbers count the header as line 1:",
    "",
    "| line | unit | formula | actual | what |",
    "| --- | --- | --- | --- | --- |",
    "| 9 | 990800 辛市 | 7,320,400 | 7,420,400 | the province passed on 100,000 more than the formula gives this city |",
    "| 22 | 990302 丙一县 | 1,938,400 | 2,088,400 | +150,000, taken from 丙二县 (丙市 still reconciles) |",
    "| 23 | 990303 丙二县 | 1,700,700 | 1,550,700 | −150,000 |",
    "| 42 | 990702 庚一县 | 2,286,700 | 1,986,700 | −300,000 kept by 庚市: neither passed on nor reserved |",
    "| 45 | 990801 辛市城区 | 2,563,700 | 2,663,700 | 辛市 passes its extra 100,000 on to its city district |",
    "",
    "Reconciliation: 990000 某省 received 80,000,000, passed on 77,700,000, stated reserve 2,400,000 →",
    "−100,000 (over-distributed); 990700 庚市 received 7,674,400, passed on 7,374,400 → +300,000",
    "(retained). Every other unit and allocating unit is clean.",
    "",
]
with open(os.path.join(HERE, "PLANTED.md"), "w", encoding="utf-8") as f:
    f.write("\n".join(out))
print(f"{len(households)} households, {len(payments)} payments")
