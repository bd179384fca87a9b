#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ from the bundled
scenarios, the test fixtures and the bad-input corpus (tests/bad_inputs/), plus small
hand-made workbooks. The corpora are not committed (see .gitignore); run.sh calls this when a
target's corpus folder is missing. Run from anywhere: python3 fuzz/make_seeds.py"""
import hashlib, io, os, zipfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
SEP = b"\n%%%\n"
MAX = 24 * 1024  # larger files are cut (libFuzzer's max_len follows the largest seed)

# the order scenario::from_sources asks for tables (see fuzz_targets/scenario_load.rs)
ORDER = ["units", "factors", "actual", "plan", "survey", "files", "payments", "households"]


def put(target, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path, limit=MAX):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) > limit:  # cut at a line end
        data = data[:limit]
        data = data[: data.rfind(b"\n") + 1]
    return data


def folders():
    for parent in ["scenarios", "tests/fixtures", "tests/bad_inputs"]:
        base = os.path.join(ROOT, parent)
        for name in sorted(os.listdir(base)):
            p = os.path.join(base, name)
            if os.path.isdir(p) and not os.path.islink(p) and os.path.exists(os.path.join(p, "scenario.toml")):
                yield p


def table_file(folder, role, toml_text):
    # the file the toml names for a role, else the default name
    for line in toml_text.splitlines():
        s = line.strip()
        if s.startswith(role) and "=" in s and s.split("=")[0].strip() == role:
            name = s.split("=", 1)[1].strip().strip('"')
            return os.path.join(folder, name)
    return os.path.join(folder, role + ".csv")


def ledger_pair(folder, n=60):
    """The first n households of the register and their payments (small enough to fuzz)."""
    reg = read(os.path.join(folder, "households.csv"), 1 << 30).split(b"\n")
    led = read(os.path.join(folder, "payments.csv"), 1 << 30).split(b"\n")
    keep = reg[: n + 1]
    ids = {r.split(b",")[0] for r in keep[1:] if r}
    lines = [led[0]] + [r for r in led[1:] if r and r.split(b",")[1] in ids]
    return b"\n".join(lines[:200]) + b"\n", b"\n".join(keep) + b"\n"


def xlsx(rows, shared=True, dates=False):
    """A minimal but complete .xlsx: one sheet, shared or inline strings, optional date style."""
    strings, cells_xml = [], []
    for r, row in enumerate(rows, start=1):
        cs = []
        for c, v in enumerate(row):
            ref = chr(ord("A") + c) + str(r)
            if v is None:
                continue
            if isinstance(v, (int, float)):
                style = ' s="1"' if dates and c == len(row) - 1 and r > 1 else ""
                cs.append(f'<c r="{ref}"{style}><v>{v}</v></c>')
            elif shared:
                strings.append(v)
                cs.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                cs.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
        cells_xml.append(f'<row r="{r}">{"".join(cs)}</row>')
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="因素" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>',
        "xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
        % (len(strings), len(strings), "".join(f"<si><t>{s}</t></si>" for s in strings)),
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>'
        % "".join(cells_xml),
    }
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in files.items():
            z.writestr(k, v)
    return b.getvalue()


def main():
    n = 0
    for folder in folders():
        toml = read(os.path.join(folder, "scenario.toml"))
        put("scenario_toml", toml)
        text = toml.decode("utf-8", "replace")
        parts = [toml]
        for role in ORDER:
            p = table_file(folder, role, text)
            if role in ("payments", "households"):
                p = None  # big, and allocation never reads them
            data = read(p) if p and os.path.isfile(p) and not os.path.islink(p) else None
            if data is not None and role in ("units", "factors"):
                (put("xlsx_table", data) if p.endswith(".xlsx") else put("csv_table", data))
            parts.append(data or b"")  # empty = no such file
        while parts[-1] == b"":
            parts.pop()
        put("scenario_load", SEP.join(parts))
        for extra in ["plan.csv", "survey.csv", "actual.csv", "files.csv"]:
            p = os.path.join(folder, extra)
            if os.path.isfile(p):
                put("csv_table", read(p, 8 * 1024))
        if os.path.isfile(os.path.join(folder, "payments.csv")) and os.path.isfile(os.path.join(folder, "households.csv")):
            led, reg = ledger_pair(folder)
            put("payments", led + SEP + reg)
            put("payments", led + SEP + reg + SEP + bytes([1, 2, 1, 50, 1]))
            put("csv_table", reg)
        n += 1
    # encodings
    units = read(os.path.join(ROOT, "scenarios/hubei-5311/units.csv")).decode()
    put("csv_table", units.encode("gb18030"))
    put("csv_table", b"\xef\xbb\xbf" + units.encode())
    put("csv_table", b'a,b\n"x, ""quoted""",2\r\n\r\n3,4\n')
    # workbooks
    rows = [["unit_id", "pop", "income", "flag", "date"], ["C1", 5000, 8000.5, 1, 43466], ["C2", "１２３", "#N/A", 0, 44196], [], ["K11", "1,234", 7000, 1, 43831]]
    put("xlsx_table", xlsx(rows))
    put("xlsx_table", xlsx(rows, shared=False, dates=True))
    put("xlsx_table", xlsx([["id", "name", "parent_id", "level"], ["P", "省", None, "province"], ["C1", "市", "P", "city"]]))
    # number cells
    for s in ["1,234,567.89", "１２３", "１，２３４．５", "12%", "１２％", "1e308", "7.9e28", "-1.5E-3", "NaN", "inf", "-", "—",
              "#N/A", " 1 234 ", "0.0000000000000000000000000001", "-79228162514264337593543950335", "＋5", "−3", "12,34",
              "1　234", "+0.5", ".5", "5.", "1_000", "0x10", "", "  "]:
        put("number_cell", s.encode())
    print(f"seeds from {n} scenario folders")


main()
