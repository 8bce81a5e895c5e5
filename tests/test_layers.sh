#!/usr/bin/env bash
# The layering rule of docs/architecture.md, checked on the source: a module
# in lib/X/ includes salesd headers only of its own folder and of the layers
# below X, always by their folder ("base/util.h"); base/ includes only
# base/; etl/, report/ and engine/ only base/ and themselves; deliver/ of
# report/ only the manifest (what was rendered), never the report model. A
# flat include ("util.h") or one that goes up or sideways fails, with the
# file and line.
set -uo pipefail

src=${SALESD_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
declare -A allowed=(
	[base]="base"
	[engine]="base engine"
	[etl]="base etl"
	[report]="base report"
	[deliver]="base deliver report/manifest.h"
)
n=0
for dir in "$src"/lib/*/; do
	layer=$(basename "$dir")
	[ -n "${allowed[$layer]:-}" ] || { echo "test_layers: lib/$layer/ is no known layer (docs/architecture.md)" >&2; fail=1; continue; }
	for f in "$dir"*.[ch]; do
		while IFS=: read -r line inc; do
			n=$((n + 1))
			target=${inc%%/*}
			if [ "$target" = "$inc" ]; then
				[ "$inc" = "version.h" ] && continue
				echo "test_layers: lib/$layer/$(basename "$f"):$line: \"$inc\" without its folder" >&2
				fail=1
			elif [[ " ${allowed[$layer]} " != *" $target "* && " ${allowed[$layer]} " != *" $inc "* ]]; then
				echo "test_layers: lib/$layer/$(basename "$f"):$line: $layer/ includes $inc" \
					"(allowed: ${allowed[$layer]})" >&2
				fail=1
			fi
		done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
	done
done
[ "$n" -gt 100 ] || { echo "test_layers: only $n includes seen: is the pattern stale?" >&2; fail=1; }
[ $fail -eq 0 ] && echo "test_layers: $n includes in lib/ follow the layers"
exit $fail
