#!/usr/bin/env bash
# Checks DESIGN.md's layering: a file in src/<layer>/ includes only headers of its own layer or
# of layers below it. The order, lowest first, is the list below; a layer not listed fails.
# Above db/ no SQLite-only name appears (sqlite3 calls, FTS5 and MATCH, SQL strftime, PRAGMA): the
# engine-specific SQL lives in the db layer so that another engine can be added under it.
set -u
cd "$(dirname "$0")/.."
layers=(base db model check calendar record auth stats report http api cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
bad=0
for f in src/*/*.[ch]; do
  layer=$(basename "$(dirname "$f")")
  r=$(rank "$layer")
  if [ "$r" -lt 0 ]; then echo "$f: unknown layer $layer"; bad=1; continue; fi
  while read -r inc; do
    dep=${inc%%/*}
    d=$(rank "$dep")
    if [ "$d" -lt 0 ] || [ "$d" -gt "$r" ]; then echo "$f: layer $layer includes $inc (above it)"; bad=1; fi
  done < <(grep -Eo '#include "[a-z]+/[a-z_]+\.h"' "$f" | sed -E 's/#include "(.*)"/\1/')
done
if grep -nE "sqlite3_|sqlite3\.h|fts5|MATCH \?|strftime\('|PRAGMA " src/*/*.[ch] | grep -v '^src/db/'; then
  echo "SQLite-only SQL above the db layer (see the dialect in src/db/db.h)"; bad=1
fi
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
