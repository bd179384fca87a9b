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

def hello_zip():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("hello.txt", date_time=(2019, 1, 1, 0, 0, 0)), "not a workbook")
    return b.getvalue()

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
case("factors-xlsx-not-workbook", err("factors.xlsx", None, None, "xlsx"), toml=sub(TOML, 'factors = "factors.csv"', 'factors = "factors.xlsx"'), raw={"factors.xlsx": hello_zip()})

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


# ======================================================================================
# The other input files: each case adds one optional file (and what it needs) to the
# scenario above and is run through the command that reads it.

PROJECTION = """
[projection]
years = [2019, 2020]
new_entry_rate = "0"
return_rate = "0"
"""

PLAN = """unit_id,filed_start,rural_pop,target_2019,target_2020,exited_pop
K11,400,20000,200,150,100
K12,300,15000,150,100,50
K21,500,30000,250,200,80
K22,200,10000,100,80,20
"""

SURVEY = """unit_id,indicator,sampled,flagged
K11,missed_assessment,60,0
K11,wrong_exit,40,0
K11,satisfaction,50,48
K12,missed_assessment,60,1
K12,wrong_exit,40,0
K12,satisfaction,50,47
"""

ACTUAL = """unit_id,stage,pool,amount
K11,2,base,135877
K12,2,base,194523
K21,2,base,258355
K22,2,base,195245
K11,2,reward,82600
K21,2,reward,53156
K22,2,reward,60244
"""

HOUSEHOLDS = """household_id,unit_id,category,filed_on,closed_on,dibao_monthly
H01,K11,deep,2018-01-01,,500
H02,K12,relative,2018-03-01,,500
H03,K21,deep,2018-05-01,,450
H04,K22,relative,2018-06-01,,450
"""

PAYMENTS = """payment_id,household_id,unit_id,date,kind,amount
P01,H01,K11,2019-01-15,living,1000
P02,H02,K12,2019-02-15,living,1200
P03,H03,K21,2019-03-15,living,900
P04,H04,K22,2019-04-15,warmth,800
"""

FILES = """unit_id,year,filed_start,new,exits,removals,filed_end
K11,2018,500,20,100,10,410
K11,2019,410,10,100,5,315
K21,2019,600,30,120,10,500
"""

COUNTY_EXITS = """year,planned,actual
2019,2,1
2020,2,3
"""


def msg(file, line=None, field=None, contains=None):
    return (file, line, field, contains)


def expect(command, exit, errors=(), warnings=(), args=(), inflate=None):
    s = f'command = "{command}"\nexit = {exit}\n'
    if args:
        s += "args = [" + ", ".join(f'"{a}"' for a in args) + "]\n"
    if inflate:
        s += f'\n[inflate]\nfile = "{inflate[0]}"\nbytes = {inflate[1]}\n'
    for kind, lst in (("error", errors), ("warning", warnings)):
        for file, line, field, contains in lst:
            s += f'\n[[{kind}]]\nfile = "{file}"\n'
            if line is not None:
                s += f"line = {line}\n"
            if field is not None:
                s += f'field = "{field}"\n'
            if contains:
                s += f"contains = {toml_str(contains)}\n"
    return s


def toml_str(x):
    return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'


def with_files(name, exp, toml=TOML, **files):
    """A case with extra files: keyword = file name with `.` as `_` (str or bytes)."""
    extra, raw = {}, {}
    for k, v in files.items():
        fn = k.replace("__", ".")
        (raw if isinstance(v, bytes) else extra)[fn] = v
    case(name, exp, toml=toml, extra=extra, raw=raw)


def xlsx(rows, merges=(), errors=()):
    """A minimal .xlsx workbook: `rows` is a list of lists (str, int, float or None);
    `merges` are A1 ranges; `errors` maps an A1 reference to an error value (#DIV/0!)."""
    import xml.sax.saxutils as sx

    def col(i):
        s = ""
        i += 1
        while i:
            i, r = divmod(i - 1, 26)
            s = chr(65 + r) + s
        return s

    cells = []
    for r, row in enumerate(rows, start=1):
        cs = []
        for c, v in enumerate(row):
            ref = f"{col(c)}{r}"
            if ref in dict(errors):
                cs.append(f'<c r="{ref}" t="e"><v>{sx.escape(dict(errors)[ref])}</v></c>')
            elif v is None or v == "":
                continue
            elif isinstance(v, (int, float)):
                cs.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                cs.append(f'<c r="{ref}" t="inlineStr"><is><t>{sx.escape(str(v))}</t></is></c>')
        cells.append(f'<row r="{r}">{"".join(cs)}</row>')
    merge_xml = ""
    if merges:
        merge_xml = f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{"".join(cells)}</sheetData>{merge_xml}</worksheet>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            zi = zipfile.ZipInfo(n, date_time=(2019, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return b.getvalue()


def zip_of_text():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        zi = zipfile.ZipInfo("notes/readme.txt", date_time=(2019, 1, 1, 0, 0, 0))
        z.writestr(zi, "this archive is not a workbook")
    return b.getvalue()


def add_column(text, name, value):
    lines = text.strip().split("\n")
    return "\n".join([lines[0] + "," + name] + [l + "," + value for l in lines[1:]]) + "\n"


def csv_rows(text):
    return [[(int(c) if c.isdigit() else c) for c in line.split(",")] for line in text.strip().split("\n")]


PT = TOML + PROJECTION  # a scenario that projects

# --- plan.csv (read by project, score's exit check and report; checked by validate)
with_files("plan-negative-headcount", expect("project", 2, [msg("plan.csv", 3, "filed_start", "negative headcount")]), PT, plan__csv=sub(PLAN, "K12,300", "K12,-300"))
with_files("plan-target-above-headcount", expect("project", 2, [msg("plan.csv", 2, "target_2019", "larger than the headcount")]), PT, plan__csv=sub(PLAN, "K11,400,20000,200", "K11,400,20000,900"))
with_files("plan-years-out-of-order", expect("project", 2, [msg("plan.csv", 1, "target_2019", "out of order")]), PT, plan__csv=PLAN.replace("target_2019,target_2020", "target_2020,target_2019"))
with_files("plan-unknown-unit", expect("validate", 2, [msg("plan.csv", 6, "unit_id", "not in the units file")]), PT, plan__csv=PLAN + "K99,10,1000,5,5,0\n")
with_files("plan-non-numeric", expect("project", 2, [msg("plan.csv", 4, "rural_pop", "not a number")]), PT, plan__csv=sub(PLAN, "K21,500,30000", "K21,500,三万"))
with_files("plan-missing-column", expect("project", 2, [msg("plan.csv", 1, "rural_pop", "missing")]), PT, plan__csv=PLAN.replace(",rural_pop", ",rural_population"))
with_files("plan-duplicate-unit", expect("project", 2, [msg("plan.csv", 6, "unit_id", "appears twice (first on line 2)")]), PT, plan__csv=PLAN + "K11,400,20000,200,150,100\n")
with_files("plan-fractional-headcount", expect("project", 2, [msg("plan.csv", 5, "filed_start", "not a whole number")]), PT, plan__csv=sub(PLAN, "K22,200", "K22,200.5"))
with_files("plan-rural-below-filed", expect("project", 2, [msg("plan.csv", 3, "rural_pop", "smaller than the filed population")]), PT, plan__csv=sub(PLAN, "K12,300,15000", "K12,300,200"))
with_files("plan-1e308", expect("project", 2, [msg("plan.csv", 2, "target_2020", "range")]), PT, plan__csv=sub(PLAN, "K11,400,20000,200,150", "K11,400,20000,200,1e308"))
with_files("plan-header-repeated", expect("score", 2, [msg("plan.csv", 4, None, "header row is repeated")]), PT, plan__csv=sub(PLAN, "K21,", "unit_id,filed_start,rural_pop,target_2019,target_2020,exited_pop\nK21,"), survey__csv=SURVEY)
with_files("plan-full-width-digits", expect("project", 0, warnings=[msg("plan.csv", 2, "filed_start", "full-width"), msg("plan.csv", 3, "target_2019", "full-width")]), PT, plan__csv=sub(sub(PLAN, "K11,400", "K11,４００"), "K12,300,15000,150", "K12,300,15000,１５０"))
with_files("plan-na-target", expect("project", 2, [msg("plan.csv", 4, "target_2020", "no target for 2020")]), PT, plan__csv=sub(PLAN, "K21,500,30000,250,200", "K21,500,30000,250,#N/A"))
with_files("plan-xlsx-not-workbook", expect("project", 2, [msg("plan.xlsx", None, None, "not a readable .xlsx workbook")]), sub(PT, 'factors = "factors.csv"', 'factors = "factors.csv"\nplan = "plan.xlsx"'), plan__xlsx=zip_of_text())
with_files("plan-xlsx-merged-title", expect("project", 0, warnings=[msg("plan.xlsx", 1, None, "title row")]), sub(PT, 'factors = "factors.csv"', 'factors = "factors.csv"\nplan = "plan.xlsx"'), plan__xlsx=xlsx([["2019年减贫计划表"]] + csv_rows(PLAN), merges=["A1:F1"]))
with_files("plan-utf8-bom-then-gb18030", expect("project", 2, [msg("plan.csv", 6, "unit_id", "not UTF-8")]), PT, plan__csv=b"\xef\xbb\xbf" + PLAN.encode() + "甲县,1,1,1,1,1\n".encode("gb18030"))

# --- survey.csv (read by score and project; checked by validate)
ST = TOML
with_files("survey-flagged-above-sampled", expect("score", 2, [msg("survey.csv", 3, "flagged", "exceeds")]), ST, survey__csv=sub(SURVEY, "K11,wrong_exit,40,0", "K11,wrong_exit,40,41"))
with_files("survey-flagged-above-sampled-project", expect("project", 2, [msg("survey.csv", 3, "flagged", "more than sampled")]), PT, plan__csv=PLAN, survey__csv=sub(SURVEY, "K11,wrong_exit,40,0", "K11,wrong_exit,40,41"))
with_files("survey-negative", expect("score", 2, [msg("survey.csv", 5, "sampled", "must be >= 0")]), ST, survey__csv=sub(SURVEY, "K12,missed_assessment,60", "K12,missed_assessment,-60"))
with_files("survey-non-numeric", expect("score", 2, [msg("survey.csv", 6, "sampled", "not a number")]), ST, survey__csv=sub(SURVEY, "K12,wrong_exit,40", "K12,wrong_exit,四十"))
with_files("survey-duplicate-row", expect("score", 2, [msg("survey.csv", 8, "indicator", "already has a `satisfaction` row (line 4)")]), ST, survey__csv=SURVEY + "K11,satisfaction,50,45\n")
with_files("survey-unknown-indicator", expect("score", 2, [msg("survey.csv", 4, "indicator", "happiness")]), ST, survey__csv=sub(SURVEY, "K11,satisfaction", "K11,happiness"))
with_files("survey-unknown-unit", expect("validate", 2, [msg("survey.csv", 8, "unit_id", "K99")]), ST, survey__csv=SURVEY + "K99,satisfaction,50,45\n")
with_files("survey-missing-column", expect("score", 2, [msg("survey.csv", 1, "flagged", "missing")]), ST, survey__csv=SURVEY.replace(",flagged", ",found"))
with_files("survey-zero-sampled", expect("score", 2, [msg("survey.csv", 2, "sampled", "must be >= 1")]), ST, survey__csv=sub(SURVEY, "K11,missed_assessment,60", "K11,missed_assessment,0"))
with_files("survey-nan", expect("score", 2, [msg("survey.csv", 7, "flagged", "finite")]), ST, survey__csv=sub(SURVEY, "K12,satisfaction,50,47", "K12,satisfaction,50,NaN"))
with_files("survey-full-width-digits", expect("score", 0, warnings=[msg("survey.csv", 2, "sampled", "full-width")]), ST, survey__csv=sub(SURVEY, "K11,missed_assessment,60", "K11,missed_assessment,６０"))
with_files("survey-fraction", expect("validate", 2, [msg("survey.csv", 4, "sampled", "whole number")]), ST, survey__csv=sub(SURVEY, "K11,satisfaction,50", "K11,satisfaction,50.5"))
with_files("survey-xlsx-error-cell", expect("score", 2, [msg("survey.xlsx", 3, "flagged", "`#DIV/0!` is a spreadsheet error")]), sub(ST, 'factors = "factors.csv"', 'factors = "factors.csv"\nsurvey = "survey.xlsx"'), survey__xlsx=xlsx(csv_rows(SURVEY), errors={"D3": "#DIV/0!"}.items()))

with_files("survey-duplicate-column", expect("score", 2, [msg("survey.csv", 1, "sampled", "duplicate column")]), ST, survey__csv=add_column(SURVEY, "sampled", "60"))
with_files("plan-gb18030-detected", expect("project", 0, warnings=[msg("plan.csv", None, None, "read as GB18030")]), PT, plan__csv=PLAN.replace("exited_pop\n", "exited_pop,name\n").replace("K11,400,20000,200,150,100", "K11,400,20000,200,150,100,甲一县").encode("gb18030"))

# --- actual.csv (read by audit, infer-weights and report; checked by validate)
with_files("actual-negative-amount", expect("audit", 2, [msg("actual.csv", 3, "amount", "negative")]), actual__csv=sub(ACTUAL, "K12,2,base,194523", "K12,2,base,-194523"))
with_files("actual-negative-amount-report", expect("report", 2, [msg("actual.csv", 3, "amount", "negative")]), actual__csv=sub(ACTUAL, "K12,2,base,194523", "K12,2,base,-194523"))
with_files("actual-non-numeric", expect("infer-weights", 2, [msg("actual.csv", 4, "amount", "not a number")]), actual__csv=sub(ACTUAL, "K21,2,base,258355", "K21,2,base,258355元"))
with_files("actual-missing-column", expect("audit", 2, [msg("actual.csv", 1, "amount", "missing")]), actual__csv=ACTUAL.replace(",amount", ",money"))
with_files("actual-bad-stage", expect("audit", 2, [msg("actual.csv", 5, "stage", "not a stage number")]), actual__csv=sub(ACTUAL, "K22,2,base", "K22,9,base"))
with_files("actual-unknown-pool", expect("audit", 2, [msg("actual.csv", 6, "pool", "bonus")]), actual__csv=sub(ACTUAL, "K11,2,reward", "K11,2,bonus"))
with_files("actual-duplicate-row", expect("audit", 2, [msg("actual.csv", 9, None, "K22")]), actual__csv=ACTUAL + "K22,2,reward,60244\n")
with_files("actual-unknown-unit", expect("infer-weights", 2, [msg("actual.csv", 9, "unit_id", "not in the units file")]), actual__csv=ACTUAL + "K99,2,base,100\n")
with_files("actual-full-width-commas", expect("audit", 0, warnings=[msg("actual.csv", 4, "amount", "full-width")]), actual__csv=sub(ACTUAL, "K21,2,base,258355", 'K21,2,base,"２５８，３５５"'))
with_files("actual-infinity", expect("validate", 2, [msg("actual.csv", 2, "amount", "finite")]), actual__csv=sub(ACTUAL, "K11,2,base,135877", "K11,2,base,-inf"))
with_files("actual-na-amount", expect("audit", 2, [msg("actual.csv", 7, "amount", "empty")]), actual__csv=sub(ACTUAL, "K21,2,reward,53156", "K21,2,reward,#N/A"))
with_files("actual-spaces-and-separators", expect("audit", 0), actual__csv=sub(sub(ACTUAL, "K11,2,base,135877", 'K11,2,base," 135,877 "'), "K12,2,base,194523", "K12,2,base,194 523"))

# --- payments.csv and households.csv (read by audit; checked by validate)
with_files("payments-dates-three-formats", expect("audit", 0, warnings=[msg("payments.csv", 3, "date", "2019/2/15"), msg("payments.csv", 4, "date", "2019年3月15日"), msg("payments.csv", None, "date", "3 formats")]), households__csv=HOUSEHOLDS, payments__csv=sub(sub(PAYMENTS, "2019-02-15", "2019/2/15"), "2019-03-15", "2019年3月15日"))
with_files("payments-ambiguous-date", expect("audit", 2, [msg("payments.csv", 3, "date", "ambiguous")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "2019-02-15", "05/03/2019"))
with_files("payments-impossible-date", expect("audit", 2, [msg("payments.csv", 4, "date", "`2019-02-30` is not a date: there is no such day")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "2019-03-15", "2019-02-30"))
with_files("payments-full-width-amount", expect("audit", 0, warnings=[msg("payments.csv", 3, "amount", "full-width")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "living,1200", 'living,"１，２００"'))
with_files("payments-na-amount", expect("audit", 2, [msg("payments.csv", 5, "amount", "empty")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "warmth,800", "warmth,#N/A"))
with_files("payments-header-repeated", expect("audit", 2, [msg("payments.csv", 4, None, "header row is repeated")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "P03,", "payment_id,household_id,unit_id,date,kind,amount\nP03,"))
with_files("payments-duplicate-column", expect("audit", 2, [msg("payments.csv", 1, "amount", "duplicate column")]), households__csv=HOUSEHOLDS, payments__csv=add_column(PAYMENTS, "amount", "0"))
with_files("payments-ten-megabyte-field", expect("audit", 2, [msg("payments.csv", 3, "payment_id", "longer than")], inflate=("payments.csv", 10 * 1024 * 1024)), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "P02,", "@@BIG@@,"))
with_files("payments-1e308", expect("audit", 2, [msg("payments.csv", 2, "amount", "range")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "living,1000", "living,1e308"))
with_files("payments-nan", expect("audit", 2, [msg("payments.csv", 4, "amount", "finite")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "living,900", "living,nan"))
with_files("payments-negative-amount", expect("validate", 2, [msg("payments.csv", 5, "amount", "negative")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "warmth,800", "warmth,-800"))
with_files("payments-duplicate-id", expect("audit", 2, [msg("payments.csv", 5, "payment_id", "used twice")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "P04,", "P01,"))
with_files("payments-missing-column", expect("audit", 2, [msg("payments.csv", 1, "date", "required column")]), households__csv=HOUSEHOLDS, payments__csv=PAYMENTS.replace(",date,", ",day,"))
with_files("payments-bom-in-middle", expect("audit", 2, [msg("payments.csv", 4, None, "byte-order mark")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "P03,", "\ufeffP03,"))
with_files("payments-utf8-bom-then-gb18030", expect("audit", 2, [msg("payments.csv", 6, "kind", "not UTF-8")]), households__csv=HOUSEHOLDS, payments__csv=b"\xef\xbb\xbf" + PAYMENTS.encode() + "P05,H01,K11,2019-05-15,送温暖,100\n".encode("gb18030"))
with_files("payments-utf16", expect("audit", 2, [msg("payments.csv", None, None, "UTF-16")]), households__csv=HOUSEHOLDS, payments__csv=b"\xff\xfe" + PAYMENTS.encode("utf-16-le"))
with_files("payments-without-register", expect("audit", 2, [msg("payments.csv", None, None, "household register")]), payments__csv=PAYMENTS)
with_files("payments-xlsx-merged-header", expect("audit", 2, [msg("payments.xlsx", 1, None, "merged")]), sub(TOML, 'factors = "factors.csv"', 'factors = "factors.csv"\npayments = "payments.xlsx"'), households__csv=HOUSEHOLDS, payments__xlsx=xlsx([["payment_id", "household_id", "unit_id", "date", "金额", None], [None, None, None, None, "kind", "amount"]] + csv_rows(PAYMENTS)[1:], merges=["A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:F1"]))
with_files("payments-xlsx-not-workbook", expect("audit", 2, [msg("payments.xlsx", None, None, "xlsx")]), sub(TOML, 'factors = "factors.csv"', 'factors = "factors.csv"\npayments = "payments.xlsx"'), households__csv=HOUSEHOLDS, payments__xlsx=zip_of_text())
with_files("households-closed-before-filed", expect("audit", 2, [msg("households.csv", 3, "closed_on", "before it was filed")]), households__csv=sub(HOUSEHOLDS, "H02,K12,relative,2018-03-01,", "H02,K12,relative,2018-03-01,2017-12-31"), payments__csv=PAYMENTS)
with_files("households-duplicate-id", expect("audit", 2, [msg("households.csv", 6, "household_id", "appears twice")]), households__csv=HOUSEHOLDS + "H03,K21,deep,2018-05-01,,450\n", payments__csv=PAYMENTS)
with_files("households-bad-date", expect("validate", 2, [msg("households.csv", 4, "filed_on", "no such day in the calendar")]), households__csv=sub(HOUSEHOLDS, "2018-05-01", "2018-13-01"), payments__csv=PAYMENTS)
with_files("households-negative-dibao", expect("audit", 2, [msg("households.csv", 5, "dibao_monthly", "negative")]), households__csv=sub(HOUSEHOLDS, "2018-06-01,,450", "2018-06-01,,-450"), payments__csv=PAYMENTS)
with_files("households-missing-column", expect("audit", 2, [msg("households.csv", 1, "category", "required column")]), households__csv=HOUSEHOLDS.replace(",category,", ",tier,"), payments__csv=PAYMENTS)
with_files("households-full-width-dibao", expect("audit", 0, warnings=[msg("households.csv", 2, "dibao_monthly", "full-width")]), households__csv=sub(HOUSEHOLDS, "2018-01-01,,500", "2018-01-01,,５００"), payments__csv=PAYMENTS)

with_files("payments-excel-serial-date", expect("audit", 2, [msg("payments.csv", 2, "date", "Excel date serial")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "2019-01-15", "43480"))
with_files("payments-two-digit-year", expect("audit", 2, [msg("payments.csv", 5, "date", "two-digit year")]), households__csv=HOUSEHOLDS, payments__csv=sub(PAYMENTS, "2019-04-15", "19-04-15"))
with_files("payments-dates-with-time", expect("audit", 0), households__csv=HOUSEHOLDS, payments__csv=PAYMENTS.replace("-15,", "-15 00:00:00,"))
with_files("households-ambiguous-closing-date", expect("audit", 2, [msg("households.csv", 5, "closed_on", "ambiguous")]), households__csv=sub(HOUSEHOLDS, "2018-06-01,,450", "2018-06-01,03/04/2019,450"), payments__csv=PAYMENTS)

# --- files.csv (read by project and audit; checked by validate)
with_files("files-negative-count", expect("project", 2, [msg("files.csv", 3, "exits", "negative")]), files__csv=sub(FILES, "K11,2019,410,10,100", "K11,2019,410,10,-100"))
with_files("files-unknown-unit", expect("audit", 2, [msg("files.csv", 5, "unit_id", "not in the units file")]), files__csv=FILES + "K99,2019,1,0,0,0,1\n")
with_files("files-duplicate-year", expect("project", 2, [msg("files.csv", 5, None, "twice")]), files__csv=FILES + "K11,2019,410,10,100,5,315\n")
with_files("files-fraction", expect("project", 2, [msg("files.csv", 4, "new", "not a whole number")]), files__csv=sub(FILES, "K21,2019,600,30", "K21,2019,600,30.5"))
with_files("files-missing-column", expect("validate", 2, [msg("files.csv", 1, "removals", "missing")]), files__csv=FILES.replace(",removals", ",removed"))
with_files("files-year-not-number", expect("audit", 2, [msg("files.csv", 2, "year", "not a number")]), files__csv=sub(FILES, "K11,2018", "K11,2018年"))
with_files("files-full-width", expect("project", 0, warnings=[msg("files.csv", 4, "filed_start", "full-width")]), files__csv=sub(FILES, "K21,2019,600", "K21,2019,６００"))

# --- county_exits.csv (read by report with a projection; checked by validate)
def ce(name, exp, text):
    with_files(name, exp, PT, plan__csv=PLAN, county_exits__csv=text)

ce("county-exits-non-numeric", expect("report", 2, [msg("county_exits.csv", 3, "actual", "not a number")]), sub(COUNTY_EXITS, "2020,2,3", "2020,2,三"))
ce("county-exits-negative", expect("report", 2, [msg("county_exits.csv", 2, "planned", "negative")]), sub(COUNTY_EXITS, "2019,2,1", "2019,-2,1"))
ce("county-exits-duplicate-year", expect("report", 2, [msg("county_exits.csv", 4, "year", "twice")]), COUNTY_EXITS + "2020,1,1\n")
ce("county-exits-year-not-number", expect("validate", 2, [msg("county_exits.csv", 2, "year", "year")]), sub(COUNTY_EXITS, "2019,2,1", "二〇一九,2,1"))
ce("county-exits-missing-column", expect("report", 2, [msg("county_exits.csv", 1, "planned", "missing")]), COUNTY_EXITS.replace("planned", "plan"))
ce("county-exits-fraction", expect("report", 2, [msg("county_exits.csv", 3, "planned", "whole number")]), sub(COUNTY_EXITS, "2020,2,3", "2020,2.5,3"))
ce("county-exits-out-of-order", expect("report", 0, warnings=[msg("county_exits.csv", 3, "year", "order")]), "year,planned,actual\n2020,2,3\n2019,2,1\n")

# --- encodings: declared with [data] encoding, or contradicted by the bytes
UNITS_GB = UNITS.encode("gb18030")
# names whose GB18030 bytes happen to be valid UTF-8 too (each character two bytes, lead
# 0xC2–0xDF, trail 0x80–0xBF): auto-detection would read them as UTF-8 mojibake
UNITS_UTF8_LOOKALIKE = (UNITS.replace("示例省", "专业").replace("甲市", "之一").replace("乙市", "为么")
                        .replace("甲一县", "丝一").replace("甲二县", "丝业").replace("乙一县", "丫一").replace("乙二县", "丫业")).encode("gb18030")
UNITS_UTF8_LOOKALIKE.decode("utf-8")
with_files("encoding-declared-utf8-gb18030-bytes", expect("validate", 2, [msg("units.csv", 2, "name", "not UTF-8")]), sub(TOML, "[data]\n", '[data]\nencoding = "utf-8"\n'), units__csv=UNITS_GB)
with_files("encoding-declared-gb18030-utf8-bom", expect("validate", 2, [msg("factors.csv", 1, None, "UTF-8 byte-order mark")]), sub(TOML, "[data]\n", '[data]\nencoding = "gb18030"\n'), units__csv=UNITS_GB, factors__csv=b"\xef\xbb\xbf" + FACTORS.encode())
with_files("encoding-declared-gb18030-invalid", expect("validate", 2, [msg("units.csv", 3, "name", "not GB18030")]), sub(TOML, "[data]\n", '[data]\nencoding = "gb18030"\n'), units__csv=UNITS_GB.replace("甲市".encode("gb18030"), b"\x81\x30\x2c\x2c"[:2] + "市".encode("gb18030")))
with_files("encoding-declared-gb18030-valid-utf8", expect("validate", 0, warnings=[msg("units.csv", 2, "name", "also valid UTF-8")]), sub(TOML, "[data]\n", '[data]\nencoding = "gb18030"\n'), units__csv=UNITS_UTF8_LOOKALIKE)
with_files("encoding-unknown", expect("validate", 2, [msg("scenario.toml", 7, "data.encoding", "latin1")]), sub(TOML, "[data]\n", '[data]\nencoding = "latin1"\n'))
with_files("encoding-utf16-bom-plan", expect("project", 2, [msg("plan.csv", None, None, "UTF-16")]), PT, plan__csv=b"\xfe\xff" + PLAN.encode("utf-16-be"))

# --- XLSX variants of the core files
with_files("xlsx-factors-merged-title", expect("validate", 0, warnings=[msg("factors.xlsx", 1, None, "title row")]), sub(TOML, 'factors = "factors.csv"', 'factors = "factors.xlsx"'), factors__xlsx=xlsx([["2019年因素表", None, None, None, None]] + csv_rows(FACTORS), merges=["A1:E1"]))
with_files("xlsx-units-header-repeated", expect("validate", 2, [msg("units.xlsx", 5, None, "header row is repeated")]), sub(TOML, 'units = "units.csv"', 'units = "units.xlsx"'), units__xlsx=xlsx(csv_rows(sub(UNITS, "K11,", "id,name,parent_id,level\nK11,"))))
with_files("xlsx-factors-na-error-cell", expect("validate", 2, [msg("factors.xlsx", 4, "pop", "missing")]), sub(TOML, 'factors = "factors.csv"', 'factors = "factors.xlsx"'), factors__xlsx=xlsx(csv_rows(FACTORS), errors={"B4": "#N/A"}.items()))
with_files("xlsx-units-merged-data-cells", expect("validate", 2, [msg("units.xlsx", 5, "parent_id", "merged")]), sub(TOML, 'units = "units.csv"', 'units = "units.xlsx"'), units__xlsx=xlsx([r if r[0] != "K12" else r[:2] + [None] + r[3:] for r in csv_rows(UNITS)], merges=["C5:C6"]))
with_files("xlsx-units-ten-megabyte-cell", expect("validate", 2, [msg("units.xlsx", 3, "name", "longer than")]), sub(TOML, 'units = "units.csv"', 'units = "units.xlsx"'), units__xlsx=xlsx(csv_rows(sub(UNITS, "C1,甲市", "C1," + "市" * 200_000))))

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
