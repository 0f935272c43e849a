#!/bin/sh
# One-shot job of docker-compose.yml: import every saved-objects file of
# dashboards/kibana/ (mounted at /kibana) into Kibana ($KIBANA_URL).
set -eu
found=0
for file in /kibana/*.ndjson; do
  [ -e "$file" ] || continue
  found=1
  echo "importing $file"
  curl -fsS -X POST "${KIBANA_URL}/api/saved_objects/_import?overwrite=true" \
    -H "kbn-xsrf: vppcomp" --form "file=@${file}"
  echo
done
[ "$found" = 1 ] || { echo "no saved objects in /kibana" >&2; exit 1; }
