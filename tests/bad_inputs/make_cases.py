#!/usr/bin/env python3
"""Writes the bad-input corpus: one folder per case, each a small scenario with one defect
and an expect.toml naming the exit code and the file/line/field the message must name.
Run from this folder: python3 make_cases.py  (the folders are committed; the harness is
tests/bad_inputs.rs)."""
import os, shutil, zipfile, io

HERE = os.path.dirname(os.path.abspath(__file__))

TOML = """[scenario]
name = "bad"
title = "坏输入"
rounding = "1"

[data]
units = "units.csv"
factors = "factors.csv"

[[stage]]
level = "city"
total = "1000000"
reserve = "0.02"

  [[stage.pool]]
  id = "base"
  share = "1"
    [[stage.pool.factor]]
    column = "pop"
    weight = "0.6"
    [[stage.pool.factor]]
    column = "income"
    weight = "0.4"
    transform = "inverse"

[[stage]]
level = "county"

  [[stage.pool]]
  id = "base"
  share = "0.8"
  floor = "1000"
  cap_share = "0.9"
    [[stage.pool.factor]]
    column = "pop"
    weight = "0.7"
    [[stage.pool.factor]]
    column = "income"
    weight = "0.3"
    transform = "inverse"

  [[stage.pool]]
  id = "reward"
  share = "0.2"
  eligible = "flag"
    [[stage.pool.factor]]
    column = "score"
    weight = "1"
"""

UNITS = """id,name,parent_id,level
P,示例省,,province
C1,甲市,P,city
C2,乙市,P,city
K11,甲一县,C1,county
K12,甲二县,C1,county
K21,乙一县,C2,county
K22,乙二县,C2,county
"""

FACTORS = """unit_id,pop,income,score,flag
C1,5000,8000,80,1
C2,7000,6000,70,1
K11,2000,9000,90,1
K12,3000,7000,60,0
K21,4000,5000,75,1
K22,3000,6500,85,1
"""

cases = []

def case(name, expect, toml=TOML, units=UNITS, factors=FACTORS, extra=None, raw=None):
    cases.append((name, expect, toml, units, factors, extra or {}, raw or {}))

def err(file, line, field, contains=None, exit=2, command="validate"):
    s = f'command = "{command}"\nexit = {exit}\n\n[[error]]\nfile = "{file}"\n'
    if line is not None:
        s += f"line = {line}\n"
    if field is not None:
        s += f'field = "{field}"\n'
    if contains:
        s += f'contains = "{contains}"\n'
    return s

def sub(text, old, new, count=1):
    assert old in text, old
    return text.replace(old, new, count)

# --- units.csv
case("units-empty-id", err("units.csv", 5, "id", "empty"), units=sub(UNITS, "K11,甲一县", ",甲一县"))
case("units-duplicate-id", err("units.csv", 6, "id", "duplicate unit id"), units=sub(UNITS, "K12,甲二县", "K11,甲二县"))
case("units-unknown-parent", err("units.csv", 7, "parent_id", "not in"), units=sub(UNITS, "K21,乙一县,C2", "K21,乙一县,C9"))
case("units-cycle", err("units.csv", None, "parent_id", "cycle"), units=sub(sub(UNITS, "C1,甲市,P", "C1,甲市,K11"), "K11,甲一县,C1", "K11,甲一县,C1"))
case("units-two-roots", err("units.csv", None, "parent_id", "several root"), units=sub(UNITS, "C2,乙市,P", "C2,乙市,"))
case("units-missing-column", err("units.csv", 1, "parent_id", "missing"), units=UNITS.replace(",parent_id", ",parent").replace("P,示例省,,province", "P,示例省,,province"))
case("units-utf16", err("units.csv", None, None, "UTF-16"), raw={"units.csv": b"\xff\xfe" + UNITS.encode("utf-16-le")})
case("units-header-repeated", err("units.csv", 7, None, "header row is repeated"), units=sub(UNITS, "K12,甲二县,C1,county\n", "K12,甲二县,C1,county\nid,name,parent_id,level\n"))
case("units-duplicate-column", err("units.csv", 1, "level", "duplicate column"), units=UNITS.replace("id,name,parent_id,level", "id,name,parent_id,level,level").replace("province\n", "province,\n", 1))
case("units-too-many-cells", err("units.csv", 4, None, "cells"), units=sub(UNITS, "C2,乙市,P,city", "C2,乙市,P,city,extra"))
case("units-bom-in-middle", err("units.csv", 5, None, "byte-order mark"), raw={"units.csv": UNITS.replace("K11,", "\ufeffK11,").encode()})
case("units-invalid-bytes", err("units.csv", None, None, "neither valid UTF-8 nor GB18030"), raw={"units.csv": UNITS.encode() + b"K99,\x81\x30,C1,county\n"})

# --- factors.csv
case("factors-non-numeric", err("factors.csv", 4, "pop", "not a number"), factors=sub(FACTORS, "K11,2000", "K11,2k00"))
case("factors-negative", err("factors.csv", 5, "pop", "negative"), factors=sub(FACTORS, "K12,3000", "K12,-3000"))
case("factors-missing-value", err("factors.csv", 6, "pop", "missing"), factors=sub(FACTORS, "K21,4000", "K21,"))
case("factors-zero-inverse", err("factors.csv", 7, "income", "positive"), factors=sub(FACTORS, "K22,3000,6500", "K22,3000,0"))
case("factors-unknown-unit", err("factors.csv", 8, "unit_id", "not in the units"), factors=FACTORS + "K99,1,1,1,1\n")
case("factors-duplicate-unit", err("factors.csv", 8, "unit_id", "appears twice"), factors=FACTORS + "K22,1,1,1,1\n")
case("factors-no-unit-id-column", err("factors.csv", 1, "unit_id", "missing"), factors=FACTORS.replace("unit_id,", "unit,"))
case("factors-1e308", err("factors.csv", 4, "pop", "range"), factors=sub(FACTORS, "K11,2000", "K11,1e308"))
case("factors-nan", err("factors.csv", 4, "pop", "finite"), factors=sub(FACTORS, "K11,2000", "K11,NaN"))
case("factors-infinity", err("factors.csv", 4, "income", "finite"), factors=sub(FACTORS, "K11,2000,9000", "K11,2000,inf"))
case("factors-bad-grouping", err("factors.csv", 4, "pop", "thousands separators"), factors=sub(FACTORS, "K11,2000", 'K11,"20,00"'))
case("factors-missing-flag", err("factors.csv", 5, "flag", "eligibility flag missing"), factors=sub(FACTORS, "K12,3000,7000,60,0", "K12,3000,7000,60,"))
case("factors-zero-sum", err("scenario.toml", None, "stage[2].pool[2].factor[1].column", "sums to zero"), factors=FACTORS.replace(",90,1", ",0,1").replace(",60,0", ",0,0").replace(",75,1", ",0,1").replace(",85,1", ",0,1"))
case("factors-empty-eligible", err("scenario.toml", None, "stage[2].pool[2].eligible", "eligible set is empty"), factors=sub(sub(FACTORS, "K11,2000,9000,90,1", "K11,2000,9000,90,0"), "K12,3000,7000,60,0", "K12,3000,7000,60,0"))
case("factors-xlsx-not-workbook", err("factors.xlsx", None, None, "xlsx"), toml=sub(TOML, 'factors = "factors.csv"', 'factors = "factors.xlsx"'), raw={"factors.xlsx": (lambda: (lambda b: (zipfile.ZipFile(b, "w").writestr("hello.txt", "not a workbook"), b.getvalue())[1])(io.BytesIO()))()})

# --- scenario.toml
case("toml-unknown-key", err("scenario.toml", 23, None, "unknown field `weigth`"), toml=sub(TOML, 'weight = "0.4"', 'weigth = "0.4"'))
case("toml-syntax", err("scenario.toml", 4, None, None), toml=sub(TOML, 'rounding = "1"', 'rounding = "1'))
case("toml-missing-column", err("scenario.toml", 19, "stage[1].pool[1].factor[1].column", "not in factors.csv"), toml=sub(TOML, 'column = "pop"', 'column = "population"'))
case("toml-weights-sum", err("scenario.toml", None, "stage[1].pool[1].factor.weight", "sum to 0.9"), toml=sub(TOML, 'weight = "0.4"', 'weight = "0.3"'))
case("toml-pool-shares-sum", err("scenario.toml", None, "stage[2].pool.share", "sum to 1.1"), toml=sub(TOML, 'share = "0.2"', 'share = "0.3"'))
case("toml-floor-above-cap", err("scenario.toml", None, "stage[2].pool[1].floor", "above the cap"), toml=sub(TOML, 'cap_share = "0.9"', 'cap = "500"'))
case("toml-floors-exceed-pool", err("scenario.toml", None, "stage[2].pool[1].floor", "floors sum"), toml=sub(TOML, 'floor = "1000"', 'floor = "300000"'))
case("toml-caps-below-pool", err("scenario.toml", None, "stage[2].pool[1].cap", "caps sum"), toml=sub(TOML, 'cap_share = "0.9"', 'cap_share = "0.3"'))
case("toml-unknown-transform", err("scenario.toml", 24, "stage[1].pool[1].factor[2].transform", "unknown transform"), toml=sub(TOML, 'transform = "inverse"', 'transform = "inverted"'))
case("toml-gap-without-reference", err("scenario.toml", None, "stage[1].pool[1].factor[2].reference", "needs `reference`"), toml=sub(TOML, 'transform = "inverse"', 'transform = "gap"'))
case("toml-no-total", err("scenario.toml", None, "stage[1].total", "needs `total`"), toml=sub(TOML, 'total = "1000000"\n', ''))
case("toml-total-in-stage-2", err("scenario.toml", 28, "stage[2].total", "only the first stage"), toml=sub(TOML, 'level = "county"\n', 'level = "county"\ntotal = "5"\n'))
case("toml-reserve-one", err("scenario.toml", 13, "stage[1].reserve", "[0, 1)"), toml=sub(TOML, 'reserve = "0.02"', 'reserve = "1"'))
case("toml-unknown-level", err("scenario.toml", 11, "stage[1].level", "no unit has level"), toml=sub(TOML, 'level = "city"', 'level = "prefecture"'))
case("toml-negative-rounding", err("scenario.toml", 4, "scenario.rounding", "positive"), toml=sub(TOML, 'rounding = "1"', 'rounding = "-1"'))
case("toml-unknown-money-unit", err("scenario.toml", 4, "scenario.money_unit", "unknown money unit"), toml=sub(TOML, 'rounding = "1"', 'money_unit = "dollar"'))
case("toml-nesting-bomb", err("scenario.toml", 1, None, "nested more than"), toml="x = " + "[" * 5000 + "]" * 5000 + "\n" + TOML)
case("toml-weight-not-number", err("scenario.toml", 23, "stage[1].pool[1].factor[2].weight", "not a number"), toml=sub(TOML, 'weight = "0.4"', 'weight = "forty"'))
case("toml-not-utf8", err("scenario.toml", None, None, "UTF-8"), raw={"scenario.toml": TOML.encode("gb18030").replace(b"[scenario]", b"[scenario]\n# \xb2\xe2")})
case("toml-negative-adjust", err("factors.csv", 4, "coef", "must not be negative"), toml=sub(TOML, 'floor = "1000"', 'floor = "1000"\n  adjust = "coef"'), factors=FACTORS.replace("unit_id,pop,income,score,flag", "unit_id,pop,income,score,flag,coef").replace(",1\n", ",1,1\n").replace(",0\n", ",0,1\n").replace("K11,2000,9000,90,1,1", "K11,2000,9000,90,1,-1"))
case("toml-missing-factors-file", err("scenario.toml", 8, "data.factors", "not found"), toml=sub(TOML, 'factors = "factors.csv"', 'factors = "missing.csv"'))

def write_all():
    for d in os.listdir(HERE):
        p = os.path.join(HERE, d)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.islink(p):
            os.unlink(p)
    for name, expect, toml, units, factors, extra, raw in cases:
        d = os.path.join(HERE, name)
        os.makedirs(d)
        files = {"scenario.toml": toml.encode(), "units.csv": units.encode(), "factors.csv": factors.encode()}
        files.update({k: v.encode() for k, v in extra.items()})
        files.update(raw)
        for fn, data in files.items():
            with open(os.path.join(d, fn), "wb") as f:
                f.write(data)
        with open(os.path.join(d, "expect.toml"), "w") as f:
            f.write(expect)
    # the symlink loop, the 10 MB field and the output folder that is a file are made by the
    # harness at test time (tests/bad_inputs.rs)
    print(f"{len(cases)} cases")

write_all()
