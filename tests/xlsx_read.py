#!/usr/bin/env python3
"""Dump an xlsx workbook as JSON for check_xlsx, read the way a user's tool
reads it: with openpyxl, plus the zip's part list and the chart ranges
(openpyxl does not load charts).

    xlsx_read.py --probe        exit 0 when openpyxl can be imported
    xlsx_read.py FILE           print the dump on stdout

The dump: {"warnings": [...], "parts": [...], "charts": {part: {"refs": [ranges],
"cat": "strRef" or "numRef", how the categories are declared}},
"sheets": [names], "ws": {name: {"freeze", "filter", "max_row", "max_col",
"widths": {letter: width}, "cf": [{"range", "rules": [[type, operator,
formulas]]}], "cells": {"A1": {"v", "t", "f"}}}}} where t is openpyxl's
data_type ('s' string, 'n' number, 'd' date, 'f' formula) and f the number
format. Every warning openpyxl gives while loading is listed: a workbook
Excel would repair makes it warn, so the caller treats any as a failure.

Exit status: 0, 2 on bad usage, 77 when openpyxl is missing.
"""
import datetime
import json
import re
import sys
import warnings
import zipfile

try:
    import openpyxl
    from openpyxl.utils import get_column_letter
except ImportError:
    print("xlsx_read.py: cannot import openpyxl (apt install python3-openpyxl)", file=sys.stderr)
    sys.exit(77)


def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def sheet(ws):
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None:
                cells[c.coordinate] = {"v": value(c.value), "t": c.data_type, "f": c.number_format}
    cf = []
    for rng in ws.conditional_formatting:
        cf.append({"range": str(rng.sqref),
                   "rules": [[r.type, r.operator, list(r.formula or [])] for r in rng.rules]})
    return {
        "freeze": ws.freeze_panes,
        "filter": ws.auto_filter.ref,
        "max_row": ws.max_row,
        "max_col": ws.max_column,
        "widths": {get_column_letter(i): ws.column_dimensions[get_column_letter(i)].width
                   for i in range(1, ws.max_column + 1)},
        "cf": cf,
        "cells": cells,
    }


def main(argv):
    if len(argv) == 2 and argv[1] == "--probe":
        return 0
    if len(argv) != 2:
        print("usage: xlsx_read.py FILE | --probe", file=sys.stderr)
        return 2
    path = argv[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wb = openpyxl.load_workbook(path)
    with zipfile.ZipFile(path) as z:
        parts = z.namelist()
        charts = {}
        for p in parts:
            if p.startswith("xl/charts/"):
                xml = z.read(p).decode("utf-8")
                cat = re.search(r"<c:cat><c:(\w+)>", xml)
                charts[p] = {"refs": re.findall(r"<c:f>([^<]*)</c:f>", xml), "cat": cat and cat.group(1)}
    out = {
        "warnings": [str(w.message) for w in caught],
        "parts": parts,
        "charts": charts,
        "sheets": wb.sheetnames,
        "ws": {ws.title: sheet(ws) for ws in wb.worksheets},
    }
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
