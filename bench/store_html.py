#!/usr/bin/env python3
"""One store's weekly tables (brands, sub-categories, products: quantity,
sales, share, margin) as an HTML page, the way a Python reporting script
hands them to wkhtmltopdf; for bench/reports.

    store_html.py PGHOST STORE > store.html
"""
import html
import subprocess
import sys

pghost, store = sys.argv[1], sys.argv[2]


def rows(key, n):
    sql = (f"SELECT {key}, round(sum(quantity), 3), round(sum(total), 2), "
           f"round(100 * sum(total) / sum(sum(total)) OVER (), 1), "
           f"round(100 * (sum(total) - coalesce(sum(cost_price * quantity), 0)) / nullif(sum(total), 0), 1) "
           f"FROM salesd.sales_line WHERE day BETWEEN '2026-11-16' AND '2026-11-22' AND store = :'s' "
           f"GROUP BY 1 ORDER BY 3 DESC LIMIT {n}")
    out = subprocess.run(["psql", "-X", "-q", "-h", pghost, "-U", "salesd_test", "-d", "bench", "-At",
                          "-F", "\t", "-v", f"s={store}", "-f", "-"], input=sql, capture_output=True, text=True,
                         check=True).stdout
    return [r.split("\t") for r in out.splitlines() if r]


print("<html><head><meta charset='utf-8'><style>body{font-family:'DejaVu Sans'} td{text-align:right}"
      "td:first-child{text-align:left} table{border-collapse:collapse;width:100%}"
      "th,td{border-bottom:1px solid #ccc} thead{display:table-header-group}</style></head><body>")
print(f"<h1>Weekly report 2026-W47 — {html.escape(store)}</h1>")
for title, key, n in (("Brands", "brand", 50), ("Sub-categories", "sub_category", 50), ("Products", "product", 100)):
    print(f"<h2>{title}</h2><table><thead><tr><th>Name</th><th>Quantity</th><th>Sales</th><th>Share %</th>"
          "<th>Margin %</th></tr></thead><tbody>")
    for r in rows(key, n):
        print("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>")
    print("</tbody></table>")
print("</body></html>")
