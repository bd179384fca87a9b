#!/usr/bin/env python3
"""Deterministic generator of the illustrative numbers in the bundled scenarios.

Reads only files inside scenarios/ (gansu-2018/units.csv and gansu-2018/provenance.csv,
the copied Gansu unit list) and writes the CSV files of gansu-2018, hubei-5311 and
union-2019. Every "random" value comes from SHA-256 of (unit id, salt), so the output
is identical on every run and every machine. The scenario.toml and README.md files are
written by hand and are not touched.

Run from the repository root:  python3 scenarios/generate.py
The script also prints a sanity report (sums, counts, a reference run of the SPEC §3
allocation for each scenario in exact fractions) so that the figures quoted in the
READMEs can be re-derived.
"""

import csv
import hashlib
import os
from fractions import Fraction as F

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- helpers
def u(key, salt):
    """Uniform number in [0, 1) from SHA-256 of key and salt (deterministic)."""
    h = hashlib.sha256(f"{key}:{salt}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def between(key, salt, lo, hi):
    return lo + (hi - lo) * u(key, salt)


def largest_remainder(weights, total, ids):
    """Integers proportional to weights summing to total; ties by id ascending."""
    s = sum(weights)
    exact = [F(total) * F(w) / F(s) for w in weights] if s else [F(0)] * len(weights)
    floors = [int(e) for e in exact]
    left = total - sum(floors)
    order = sorted(range(len(ids)), key=lambda i: (-(exact[i] - floors[i]), ids[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def fmt4(x):
    return f"{x:.4f}"


# ------------------------------------------------- SPEC §3 reference allocation
def shares(values, transform):
    if transform == "share":
        s = sum(values)
        return [v / s for v in values]
    if transform == "inverse":
        inv = [1 / v for v in values]
        s = sum(inv)
        return [v / s for v in inv]
    raise ValueError(transform)


def clamp_alloc(a, pool, floors, caps):
    """y_i = min(cap_i, max(floor_i, lam*a_i)) summing to pool (exact fractions)."""
    n = len(a)
    fixed = {}
    while True:
        free = [i for i in range(n) if i not in fixed]
        rest = pool - sum(fixed.values())
        sa = sum(a[i] for i in free)
        lam = rest / sa
        changed = False
        for i in free:
            y = lam * a[i]
            if floors[i] is not None and y < floors[i]:
                fixed[i] = floors[i]
                changed = True
            elif caps[i] is not None and y > caps[i]:
                fixed[i] = caps[i]
                changed = True
        if not changed:
            # a fixed unit may need releasing if lam moved across it; check consistency
            ok = True
            for i, y in list(fixed.items()):
                z = lam * a[i]
                if floors[i] is not None and y == floors[i] and z > floors[i]:
                    del fixed[i]
                    ok = False
                elif caps[i] is not None and y == caps[i] and z < caps[i]:
                    del fixed[i]
                    ok = False
            if ok:
                return [fixed.get(i, lam * a[i]) for i in range(n)], set(fixed)


def round_lr(amounts, unit, ids):
    """Largest remainder to multiples of unit; ties by id (SPEC §3 step 6)."""
    total = sum(amounts)
    q = [a / unit for a in amounts]
    fl = [int(x) for x in q]  # amounts are >= 0
    left = int(round(total / unit)) - sum(fl)
    order = sorted(range(len(ids)), key=lambda i: (-(q[i] - fl[i]), ids[i]))
    for i in order[:left]:
        fl[i] += 1
    return [F(x) * unit for x in fl]


def pool_alloc(ids, fac, pool_amt, factors, adjust=None, floor=None, cap_share=None):
    """Allocation of one pool among ids; factors = [(column, weight, transform)]."""
    b = [F(0)] * len(ids)
    for col, w, tr in factors:
        s = shares([F(fac[i][col]) for i in ids], tr)
        b = [bb + F(w) * ss for bb, ss in zip(b, s)]
    c = [F(fac[i][adjust]) if adjust else F(1) for i in ids]
    bc = [x * y for x, y in zip(b, c)]
    s = sum(bc)
    a = [x / s for x in bc]
    fl = [F(floor) if floor is not None else None for _ in ids]
    cp = [F(cap_share) * pool_amt if cap_share is not None else None for _ in ids]
    y, fixed = clamp_alloc(a, pool_amt, fl, cp)
    return y, fixed


# ======================================================================= GANSU
# Approximate rural (household-registered agricultural) population per county, 2017,
# rounded: illustrative, of the right order for each county (see README).
RURAL = {
    "620102": 25000, "620103": 95000, "620104": 70000, "620105": 20000, "620111": 75000,
    "620121": 390000, "620122": 130000, "620123": 390000,
    "620302": 35000, "620321": 180000,
    "620402": 90000, "620403": 140000, "620421": 420000, "620422": 520000, "620423": 200000,
    "620502": 480000, "620503": 490000, "620521": 300000, "620522": 560000, "620523": 560000,
    "620524": 420000, "620525": 310000,
    "620602": 780000, "620621": 230000, "620622": 370000, "620623": 170000,
    "620702": 330000, "620721": 25000, "620722": 220000, "620723": 120000, "620724": 130000,
    "620725": 140000,
    "620802": 280000, "620821": 300000, "620822": 210000, "620823": 90000, "620825": 410000,
    "620826": 430000, "620881": 140000,
    "620902": 200000, "620921": 120000, "620922": 110000, "620923": 6000, "620924": 4000,
    "620981": 90000, "620982": 100000,
    "621002": 200000, "621021": 270000, "621022": 330000, "621023": 120000, "621024": 150000,
    "621025": 200000, "621026": 480000, "621027": 460000,
    "621102": 400000, "621121": 400000, "621122": 440000, "621123": 320000, "621124": 480000,
    "621125": 190000, "621126": 430000,
    "621202": 500000, "621221": 230000, "621222": 220000, "621223": 280000, "621224": 190000,
    "621225": 410000, "621226": 490000, "621227": 190000, "621228": 45000,
    "622901": 80000, "622921": 380000, "622922": 260000, "622923": 180000, "622924": 240000,
    "622925": 190000, "622926": 300000, "622927": 260000,
    "623001": 55000, "623021": 140000, "623022": 95000, "623023": 130000, "623024": 50000,
    "623025": 40000, "623026": 30000, "623027": 75000,
}

# Regional prosperity bases: (rural income base, yuan; fiscal revenue per head base, yuan)
REGION = {
    "6201": (10500, 900),   # Lanzhou counties (districts overridden below)
    "6203": (13500, 1500),  # Jinchang
    "6204": (9000, 600),    # Baiyin
    "6205": (8600, 380),    # Tianshui
    "6206": (12000, 700),   # Wuwei
    "6207": (13200, 900),   # Zhangye
    "6208": (9000, 600),    # Pingliang
    "6209": (14300, 2200),  # Jiuquan
    "6210": (9000, 900),    # Qingyang (oil revenue)
    "6211": (8200, 330),    # Dingxi
    "6212": (8000, 450),    # Longnan
    "6229": (7500, 260),    # Linxia
    "6230": (8700, 560),    # Gannan
}
# County-specific overrides (income base, fiscal base) where the county clearly differs
OVERRIDE = {
    "620102": (14600, 5200), "620103": (12800, 2600), "620104": (13800, 3200),
    "620105": (14400, 2400), "620111": (12400, 1700),
    "620302": (14500, 4200), "620402": (11800, 1900), "620403": (11000, 1100),
    "620602": (11800, 900), "620622": (7800, 260), "620623": (8600, 520),
    "620721": (14200, 3000), "620802": (10500, 1100), "620881": (9800, 2100),
    "620923": (14800, 12500), "620924": (14800, 15000), "620981": (14200, 3400),
    "620982": (14600, 2600), "621002": (10200, 1600), "621023": (8800, 2000),
    "621021": (9000, 1300), "621221": (8600, 800), "621227": (8800, 750),
    "622901": (9200, 900), "623001": (9800, 1100), "621228": (8200, 620),
    "622926": (8300, 300),
}

# Target shape of end-2017 incidence by batch (before calibration to 1.89 million)
INC_RANGE = {
    "none": (0.002, 0.010),
    "2017": (0.013, 0.027),
    "2018": (0.045, 0.078),
    "2019": (0.075, 0.140),
    "2020": (0.165, 0.230),
}
DEEP_EXTRA_2019 = 0.035  # deep-poverty counties of the 2019 batch sit higher
# Raw incidence fixed by hand where the batch range would misplace a well-known county
INC_OVERRIDE = {"622926": 0.255,   # 东乡族自治县: the poorest county of the province
                "620502": 0.076}   # 秦州区: an urban district, scattered poverty
EXIT_RATIO_2018 = {"none": 0.70, "2017": 0.62, "2018": 0.55, "2019": 0.33, "2020": 0.27}
GANSU_POOR = 1_890_000
# The hand-entered RURAL figures are scaled so that the 86 counties hold about 19.45 million
# rural residents: 175,000 poor left at the end of 2019 were published as 0.9 % (see gansu-2018/README.md).
RURAL_TOTAL = 19_450_000
_s = sum(RURAL.values())
RURAL = {k: int(round(v * RURAL_TOTAL / _s, -2)) for k, v in RURAL.items()}
GANSU_EXIT_2018 = 710_000

# Survey design: (county id) -> dict of special cases; every other county is clean.
SURVEY_SPECIAL = {
    # clearly failing: wrong exits far above 2 %, approval also low
    "620523": {"wrong_exit": (300, 14), "missed_assessment": (420, 11), "satisfaction": (620, 541)},
    # exactly at the thresholds (strict rules fail these on the point reading)
    "621124": {"missed_assessment": (400, 8)},       # 0.0200
    "620825": {"satisfaction": (500, 450)},          # 0.9000
    # just on the good side
    "621022": {"wrong_exit": (200, 3)},              # 0.0150
    "622922": {"missed_assessment": (513, 10)},      # 0.019493
    "621202": {"satisfaction": (640, 578)},          # 0.903125
    # just on the bad side
    "620421": {"wrong_exit": (190, 4)},              # 0.021053
    "623021": {"satisfaction": (470, 422)},          # 0.897872
}


def gansu():
    d = os.path.join(HERE, "gansu-2018")
    units = list(csv.DictReader(open(os.path.join(d, "units.csv"), encoding="utf-8")))
    prov = {r["unit_id"]: r for r in csv.DictReader(open(os.path.join(d, "provenance.csv"), encoding="utf-8"))}
    counties = [r["id"] for r in units if r["level"] == "county"]
    assert len(counties) == 86 and set(counties) == set(RURAL)
    fl = {}
    for c in counties:
        p = prov[c]
        fl[c] = {
            "poverty": int(p["poverty_county"]),
            "contig": 1 if p["area_type"] == "contiguous" else 0,
            "deep": int(p["deep_poverty"]),
            "batch": p["exit_batch"] or "none",
        }

    # incidence (raw) then poor headcount calibrated to exactly 1.89 million
    raw_inc = {}
    for c in counties:
        lo, hi = INC_RANGE[fl[c]["batch"]]
        x = between(c, "inc", lo, hi)
        if fl[c]["batch"] == "2019" and fl[c]["deep"]:
            x += DEEP_EXTRA_2019
        x = INC_OVERRIDE.get(c, x)
        raw_inc[c] = x
    raw_poor = [RURAL[c] * raw_inc[c] for c in counties]
    print("calibration factor on raw incidence: %.4f" % (GANSU_POOR / sum(raw_poor)))
    poor_l = largest_remainder([F(x).limit_denominator(10**6) for x in raw_poor], GANSU_POOR, counties)
    poor = dict(zip(counties, poor_l))
    inc = {c: poor[c] / RURAL[c] for c in counties}

    income, fiscal = {}, {}
    for c in counties:
        ib, fb = OVERRIDE.get(c, REGION[c[:4]])
        income[c] = int(round(ib * (1 - 1.55 * inc[c]) * between(c, "inc-j", 0.96, 1.04), -1))
        fiscal[c] = int(round(fb * (1 - 1.5 * inc[c]) * between(c, "fis-j", 0.85, 1.15)))

    # planned 2018 exits: a share of the headcount by batch, scaled to 710,000 exactly
    ex_w = [F(poor[c]) * F(EXIT_RATIO_2018[fl[c]["batch"]]).limit_denominator(100)
            * F(between(c, "exit-j", 0.95, 1.05)).limit_denominator(10**4) for c in counties]
    exit_task = dict(zip(counties, largest_remainder(ex_w, GANSU_EXIT_2018, counties)))
    # reported actual 2018 exits: at or above the task, except two counties short
    exit_done = {}
    for c in counties:
        exit_done[c] = exit_task[c] + int(exit_task[c] * between(c, "done", 0.0, 0.03))
    exit_done["620524"] = exit_task["620524"] - 1        # one person short: all-or-nothing edge
    exit_done["621225"] = exit_task["621225"] - 1460     # clearly short

    # assessment columns, poverty counties only
    perf, school, medical, housing, disburse, igrowth, misuse = {}, {}, {}, {}, {}, {}, {}
    for c in counties:
        if not fl[c]["poverty"]:
            continue
        base = {"2017": 86, "2018": 82, "2019": 79, "2020": 75}[fl[c]["batch"]]
        perf[c] = round(base + between(c, "perf", -9, 11), 1)
        school[c] = round(1 - between(c, "sch", 0, 0.004) ** 1.0 * (u(c, "sch-on") < 0.35), 4)
        medical[c] = round(1 - between(c, "med", 0, 0.006) * (u(c, "med-on") < 0.4), 4)
        housing[c] = round(1 - between(c, "hou", 0, 0.012) * (u(c, "hou-on") < 0.45), 4)
        disburse[c] = round(between(c, "disb", 0.78, 0.99), 4)
        igrowth[c] = round(between(c, "igr", 0.085, 0.125), 4)
        misuse[c] = 0
    perf["620623"] = 60.0    # 天祝: lowest score, on the boundary of the pass band
    perf["621226"] = 61.5
    perf["620702"] = 99.0
    misuse["622924"] = 1_260_000
    misuse["621123"] = 385_000
    misuse["620525"] = 48_500
    school["621027"] = 0.9935  # 0.65 pp short -> -6.5 points on a 10-point step item
    housing["623023"] = 0.9790

    # last year's base-pool amounts (2017), from an illustrative 2017 formula
    pc = [c for c in counties if fl[c]["poverty"]]
    fac17 = {c: {"p": F(poor[c]) * F(between(c, "p17", 1.25, 1.45)).limit_denominator(10**4),
                 "i": F(inc[c]).limit_denominator(10**6), "y": F(income[c]), "f": F(fiscal[c])} for c in pc}
    y17, _ = pool_alloc(pc, fac17, F(2_100_000_000),
                        [("p", "0.55", "share"), ("i", "0.10", "share"), ("y", "0.20", "inverse"), ("f", "0.15", "inverse")],
                        floor="4000000")
    y17 = [y * F(between(c, "ly-j", 0.97, 1.03)).limit_denominator(10**5) for y, c in zip(y17, pc)]
    last_year = {c: int(round(y)) for c, y in zip(pc, y17)}

    header = ["unit_id", "poverty_county", "contiguous", "deep_poverty", "coef",
              "poor_pop", "rural_pop", "incidence", "income", "fiscal_pc", "exit_task",
              "perf_score", "last_year", "exit_done", "schooling_rate", "medical_rate",
              "housing_rate", "disburse_rate", "income_growth", "misuse_found_yuan"]
    names = {r["id"]: r["name"] for r in units}
    rows = []
    for c in counties:
        f = fl[c]
        pv = f["poverty"]
        rows.append([c, pv, f["contig"], f["deep"], "1.03" if f["deep"] else "1.00",
                     poor[c], RURAL[c], fmt4(inc[c]), income[c], fiscal[c], exit_task[c],
                     perf.get(c), last_year.get(c, 0), exit_done[c],
                     fmt4(school[c]) if pv else None, fmt4(medical[c]) if pv else None,
                     fmt4(housing[c]) if pv else None, fmt4(disburse[c]) if pv else None,
                     fmt4(igrowth[c]) if pv else None, misuse.get(c)])
    write_csv(os.path.join(d, "factors.csv"), header, rows)

    # plan.csv: cumulative exits since filing (2014-2017), illustrative
    exited = {}
    for c in counties:
        orig = min(0.60, 1.9 * inc[c] + between(c, "orig", 0.07, 0.12)) if fl[c]["poverty"] else \
            inc[c] + between(c, "orig", 0.02, 0.05)
        exited[c] = max(0, int(round(RURAL[c] * orig)) - poor[c])
    write_csv(os.path.join(d, "plan.csv"), ["unit_id", "filed_start", "rural_pop", "exit_threshold", "exited_pop"],
              [[c, poor[c], RURAL[c], "0.03", exited[c]] for c in counties])

    write_csv(os.path.join(d, "county_exits.csv"),
              ["year", "planned", "actual", "planned_contiguous", "planned_scattered"],
              [[2017, 18, 18, 6, 12], [2018, 14, 18, 10, 4], [2019, 24, 31, 23, 1], [2020, 19, 8, 19, 0]])

    # survey.csv
    srows = []
    for c in pc:
        sp = SURVEY_SPECIAL.get(c, {})
        n_m = sp.get("missed_assessment", None)
        if n_m is None:
            n = int(round(between(c, "sm", 200, 600), -1))
            k = int(n * between(c, "sm-r", 0.0, 0.011))
            n_m = (n, k)
        n_w = sp.get("wrong_exit", None)
        if n_w is None:
            n = int(round(between(c, "sw", 100, 400), -1))
            k = int(n * between(c, "sw-r", 0.0, 0.010))
            n_w = (n, k)
        n_s = sp.get("satisfaction", None)
        if n_s is None:
            n = int(round(between(c, "ss", 300, 800), -1))
            k = int(round(n * between(c, "ss-r", 0.935, 0.99)))
            n_s = (n, k)
        srows += [[c, "missed_assessment", *n_m], [c, "wrong_exit", *n_w], [c, "satisfaction", *n_s]]
    write_csv(os.path.join(d, "survey.csv"), ["unit_id", "indicator", "sampled", "flagged"], srows)

    # ------------------------------------------------ report
    print("== gansu-2018")
    print("counties", len(counties), "poverty", len(pc), "contiguous", sum(fl[c]["contig"] for c in counties),
          "scattered", sum(1 for c in pc if not fl[c]["contig"]), "deep", sum(fl[c]["deep"] for c in counties))
    print("poor_pop sum", sum(poor.values()), "rural sum", sum(RURAL.values()),
          "province incidence %.4f" % (sum(poor.values()) / sum(RURAL.values())))
    print("exit_task sum", sum(exit_task.values()), "exited_pop sum", sum(exited.values()))
    for b in ["none", "2017", "2018", "2019", "2020"]:
        cs = [c for c in counties if fl[c]["batch"] == b]
        print(f"  batch {b}: n={len(cs)} poor={sum(poor[c] for c in cs)} inc {min(inc[c] for c in cs):.4f}-{max(inc[c] for c in cs):.4f}"
              f" income {min(income[c] for c in cs)}-{max(income[c] for c in cs)} fiscal {min(fiscal[c] for c in cs)}-{max(fiscal[c] for c in cs)}")
    dp = [c for c in counties if fl[c]["deep"]]
    ndp = [c for c in pc if not fl[c]["deep"]]
    print("  deep mean inc %.4f, other poverty mean inc %.4f" % (sum(inc[c] for c in dp) / len(dp), sum(inc[c] for c in ndp) / len(ndp)))
    nonpov = [c for c in counties if not fl[c]["poverty"]]
    print("  non-poverty poor max", max(poor[c] for c in nonpov), "sum", sum(poor[c] for c in nonpov))
    print("  last_year sum", sum(last_year.values()))

    # reference allocation of the stated formula (scenario.toml)
    fac = {c: {"poor_pop": poor[c], "incidence": F(fmt4(inc[c])), "income": income[c], "fiscal_pc": fiscal[c],
               "exit_task": exit_task[c], "coef": F("1.03") if fl[c]["deep"] else F(1), "perf_score": F(str(perf[c]))} for c in pc}
    total = F(3_000_000_000)
    D = total * (1 - F("0.02"))
    base_amt, rew_amt = D * F("0.85"), D * F("0.15")
    yb, fixed = pool_alloc(pc, fac, base_amt, [("poor_pop", "0.4", "share"), ("incidence", "0.2", "share"),
                                               ("income", "0.15", "inverse"), ("fiscal_pc", "0.1", "inverse"),
                                               ("exit_task", "0.15", "share")], adjust="coef", floor="7000000", cap_share="0.035")
    yr, _ = pool_alloc(pc, fac, rew_amt, [("perf_score", "1", "share")])
    yb = round_lr(yb, F(1), pc)
    print("  base pool", base_amt, "reward", rew_amt, "floored/capped", sorted((pc[i], names[pc[i]], int(yb[i])) for i in fixed))
    order = sorted(range(len(pc)), key=lambda i: yb[i])
    print("  smallest base", [(pc[i], names[pc[i]], int(yb[i])) for i in order[:4]])
    print("  largest base", [(pc[i], names[pc[i]], int(yb[i]), float(yb[i] / base_amt)) for i in order[-3:]])
    # checks
    pp = lambda cs, amt: sum(amt[pc.index(c)] for c in cs) / sum(poor[c] for c in cs)
    avg = pp(pc, yb)
    print("  per poor person: deep %.1f avg %.1f ratio %.4f" % (pp(dp, yb), avg, pp(dp, yb) / avg))
    pr = lambda cs, amt: sum(amt[pc.index(c)] for c in cs) / sum(RURAL[c] for c in cs)
    print("  per rural head: deep %.1f avg %.1f ratio %.4f" % (pr(dp, yb), pr(pc, yb), pr(dp, yb) / pr(pc, yb)))
    g = lambda cs: sum(yb[pc.index(c)] for c in cs) / sum(last_year[c] for c in cs) - 1
    con = [c for c in pc if fl[c]["contig"]]
    print("  growth: all %.4f deep %.4f contiguous %.4f" % (g(pc), g(dp), g(con)))
    tot = [yb[i] + yr[i] for i in range(len(pc))]
    fpe = sorted((tot[i] / (F(poor[c]) * F(710000) / F(GANSU_POOR)), c, names[c]) for i, c in enumerate(pc))
    print("  funds per 2018 target exit (proportional split): min %.0f (%s %s) median %.0f" %
          (fpe[0][0], fpe[0][1], fpe[0][2], fpe[len(fpe) // 2][0]))
    print("  exit_done short:", [(c, names[c], exit_done[c] - exit_task[c]) for c in counties if exit_done[c] < exit_task[c]])
    return counties


# ======================================================================= HUBEI
HUBEI = [
    # id, name, rural poor (persons), rural net income/head (yuan), local fiscal revenue/head (yuan), GDP/head (yuan)
    ("420100", "武汉市", 52000, 5050, 2350, 26200),
    ("420200", "黄石市", 68000, 3300, 760, 13800),
    ("420300", "十堰市", 468000, 2050, 410, 9000),
    ("420500", "宜昌市", 205000, 3350, 720, 15700),
    ("420600", "襄樊市", 196000, 3450, 470, 11900),
    ("420700", "鄂州市", 21000, 3750, 640, 14900),
    ("420800", "荆门市", 84000, 3700, 430, 11600),
    ("420900", "孝感市", 243000, 3200, 270, 7300),
    ("421000", "荆州市", 301000, 3150, 250, 7600),
    ("421100", "黄冈市", 642000, 2450, 200, 5200),
    ("421200", "咸宁市", 176000, 3000, 330, 8000),
    ("421300", "随州市", 118000, 3300, 260, 8300),
    ("422800", "恩施土家族苗族自治州", 716000, 1850, 240, 4700),
    ("429004", "仙桃市", 31000, 3900, 360, 11300),
    ("429005", "潜江市", 26000, 3800, 560, 12500),
    ("429006", "天门市", 43000, 3550, 230, 8200),
    ("429021", "神农架林区", 19000, 1950, 620, 8800),
]


def hubei():
    d = os.path.join(HERE, "hubei-5311")
    write_csv(os.path.join(d, "units.csv"), ["id", "name", "parent_id", "level"],
              [["420000", "湖北省", "", "province"]] + [[i, n, "420000", "city"] for i, n, *_ in HUBEI])
    write_csv(os.path.join(d, "factors.csv"), ["unit_id", "poor_pop", "net_income", "fiscal_pc", "gdp_pc"],
              [[i, a, b, c, e] for i, n, a, b, c, e in HUBEI])
    ids = [r[0] for r in HUBEI]
    fac = {r[0]: {"A": r[2], "B": r[3], "C": r[4], "D": r[5]} for r in HUBEI}
    y, _ = pool_alloc(ids, fac, F(50000), [("A", "0.5", "share"), ("B", "0.3", "inverse"), ("C", "0.1", "inverse"), ("D", "0.1", "inverse")])
    y = round_lr(y, F(1), ids)
    print("== hubei-5311: poor sum", sum(r[2] for r in HUBEI))
    for r, a in sorted(zip(HUBEI, y), key=lambda t: -t[1]):
        print(f"  {r[0]} {r[1]} {int(a)} 万元")


# ======================================================================= UNION
# Fictional province 某省 (ids 99xxxx): 8 cities, 39 county-level unions.
UNION_CITIES = [
    # id, name, urban dibao (yuan/month), number of counties, size of the city's hardship files (2017 start)
    ("990100", "甲市", 760, 6, 11500),
    ("990200", "乙市", 640, 5, 7800),
    ("990300", "丙市", 600, 6, 8300),
    ("990400", "丁市", 690, 4, 5200),
    ("990500", "戊市", 580, 5, 6900),
    ("990600", "己市", 620, 5, 6100),
    ("990700", "庚市", 560, 4, 4300),
    ("990800", "辛市", 610, 4, 3600),
]
SUFFIX = ["城区", "一县", "二县", "三县", "四县", "五县"]
TINY = {"990605", "990704"}  # two small county unions, below their floors
FILE_IDENTITY_BREAK = ("990302", 2018)     # exits typed 1 digit wrong
FILE_CONTINUITY_BREAK = ("990503", 2019)   # 2019 filed_start differs from 2018 filed_end


def union():
    d = os.path.join(HERE, "union-2019")
    units = [["990000", "某省", "", "province"]]
    counties = []
    for cid, cname, dibao, n, size in UNION_CITIES:
        units.append([cid, cname, "990000", "city"])
        for k in range(n):
            kid = f"{cid[:4]}{k + 1:02d}"
            kname = cname[0] + ("市" + SUFFIX[k] if k == 0 else SUFFIX[k])
            counties.append((kid, kname, cid, dibao, size, k))
            units.append([kid, kname, cid, "county"])
    write_csv(os.path.join(d, "units.csv"), ["id", "name", "parent_id", "level"], units)

    # files: 2017-2019 per county
    files = []
    hh2019 = {}
    for kid, kname, cid, dibao, size, k in counties:
        n = sum(1 for c in counties if c[2] == cid)
        w = [1.9 if j == 0 else (0.1 if c2[0] in TINY else between(c2[0], "w", 0.6, 1.3))
             for j, c2 in enumerate([c for c in counties if c[2] == cid])]
        share = w[k] / sum(w)
        start = int(round(size * share))
        for y in (2017, 2018, 2019):
            new = int(round(start * between(kid, f"new{y}", 0.04, 0.09)))
            exits = int(round(start * between(kid, f"ex{y}", 0.28, 0.40)))
            rem = int(round(start * between(kid, f"rm{y}", 0.015, 0.04)))
            end = start + new - exits - rem
            rep_start, rep_exits = start, exits
            if (kid, y) == FILE_IDENTITY_BREAK:
                rep_exits = exits + 10  # typed wrong; filed_end carried on correctly
            if (kid, y) == FILE_CONTINUITY_BREAK:
                rep_start = start + 37  # next year's opening stock not carried over
                end = rep_start + new - exits - rem
            files.append([kid, y, rep_start, new, rep_exits, rem, end])
            if y == 2019:
                hh2019[kid] = rep_start
            start = end
    write_csv(os.path.join(d, "files.csv"), ["unit_id", "year", "filed_start", "new", "exits", "removals", "filed_end"], files)

    # factors: city rows (aggregates) and county rows
    rows = []
    city_perf = {}
    for cid, cname, dibao, n, size in UNION_CITIES:
        ks = [c for c in counties if c[2] == cid]
        hh = sum(hh2019[c[0]] for c in ks)
        city_perf[cid] = round(between(cid, "perf", 78, 96), 1)
        rows.append([cid, hh, dibao, city_perf[cid], None])
        for kid, kname, _, _, _, k in ks:
            kd = dibao if k == 0 else int(round(dibao * between(kid, "db", 0.86, 0.97), -1))
            kp = round(between(kid, "perf", 70, 98), 1)
            floor = 1500000 if k == 0 else 1000000
            rows.append([kid, hh2019[kid], kd, kp, floor])
    write_csv(os.path.join(d, "factors.csv"), ["unit_id", "households", "dibao", "perf", "floor_yuan"], rows)

    # reference run
    fac = {r[0]: {"households": r[1], "dibao": r[2], "perf": F(str(r[3])), "floor": r[4]} for r in rows}
    cities = [c[0] for c in UNION_CITIES]
    D = F(80_000_000) * (1 - F("0.03"))
    D = (D // 100) * 100
    fs = [("households", "0.6", "share"), ("dibao", "0.2", "share"), ("perf", "0.2", "share")]
    yc, _ = pool_alloc(cities, fac, D, fs)
    yc = round_lr(yc, F(100), cities)
    print("== union-2019: distributable", D, "files rows", len(files), "counties", len(counties))
    for cid, amt in zip(cities, yc):
        ks = [c[0] for c in counties if c[2] == cid]
        # floors from column
        b = [F(0)] * len(ks)
        for col, w, tr in fs:
            s = shares([F(fac[i][col]) for i in ks], tr)
            b = [bb + F(w) * ss for bb, ss in zip(b, s)]
        a = [x / sum(b) for x in b]
        y, fixed = clamp_alloc(a, amt, [F(fac[i]["floor"]) for i in ks], [None] * len(ks))
        y = round_lr(y, F(100), ks)
        print(f"  {cid} {int(amt)} floors sum {sum(fac[i]['floor'] for i in ks)} floored {sorted(ks[i] for i in fixed)} min {int(min(y))}")


if __name__ == "__main__":
    gansu()
    hubei()
    union()
