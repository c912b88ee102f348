#!/usr/bin/env bash
# Update of an MCS-IoT installation: a backup first, then the new images, a restart (the
# backend and the worker migrate the database as they start) and a wait for health. When
# the new version is not healthy in time, the previous images are put back, and, if the new
# version had already changed the database's schema, the backup taken at the start with them.
#
#   deploy/scripts/update.sh [--pull] [--timeout SECONDS]
#
#   --pull     take the new version with `git pull --ff-only` first (else: the files as they are)
#   --timeout  how long the new version has to answer ok on /api/health (default 180 s)
set -euo pipefail

DEPLOY="$(cd "$(dirname "$0")/.." && pwd)"
PULL=false
TIMEOUT=180
HEALTH_URL="${MCS_HEALTH_URL:-https://localhost/api/health}"
IMAGES=(mcs-iot/app mcs-iot/nginx)

while [ $# -gt 0 ]; do
  case "$1" in
    --pull) PULL=true ;;
    --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$TIMEOUT" in ''|*[!0-9]*) echo "--timeout is a whole number of seconds" >&2; exit 2 ;; esac
[ -f "$DEPLOY/.env" ] || { echo "no $DEPLOY/.env: this host has no installation to update (run deploy/install.sh)" >&2; exit 2; }

compose() {
  local files=(-f "$DEPLOY/docker-compose.yml" --env-file "$DEPLOY/.env")
  if docker compose version >/dev/null 2>&1; then docker compose "${files[@]}" "$@"; else docker-compose "${files[@]}" "$@"; fi
}
healthy() { curl -fsk --max-time 5 "$HEALTH_URL" 2>/dev/null | grep -q '"status":"ok"'; }
wait_healthy() {
  local deadline=$((SECONDS + TIMEOUT))
  until healthy; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 5
  done
}
schema_version() {
  compose exec -T timescaledb psql -U mcs -d mcs -tAc "SELECT coalesce(max(version), 0) FROM schema_migrations" | tr -d '[:space:]'
}
retag() { for image in "${IMAGES[@]}"; do docker image inspect "$image:$1" >/dev/null 2>&1 && docker tag "$image:$1" "$image:$2"; done; return 0; }

echo "1/5 backup"
backup_said=$("$DEPLOY/scripts/backup.sh") || backup_said=""
echo "$backup_said"
backup=$(sed -n 's/^wrote \(.*\) ([^)]*)$/\1/p' <<< "$backup_said")
[ -f "$backup" ] || { echo "the backup failed: nothing was changed" >&2; exit 1; }
schema_before=$(schema_version)

echo "2/5 the running images are kept as :previous"
retag current previous

echo "3/5 the new images"
if $PULL; then git -C "$DEPLOY/.." pull --ff-only; fi
compose build --pull

echo "4/5 restart"
compose up -d

echo "5/5 waiting up to ${TIMEOUT} s for $HEALTH_URL to answer ok"
if wait_healthy; then
  echo "updated (database schema $schema_before → $(schema_version)); the backup from before is $backup"
  exit 0
fi

echo "the new version did not answer ok within ${TIMEOUT} s: rolling back" >&2
compose logs --tail 40 backend worker >&2 || true
retag previous current
schema_after=$(schema_version || echo unknown)
if [ "$schema_after" != "$schema_before" ]; then
  # The previous version cannot run on the new schema: the database goes back to the backup.
  # Readings the new version stored since then are lost; the broker resends none of them.
  echo "the new version changed the database schema ($schema_before → $schema_after): restoring $backup" >&2
  compose stop backend worker
  "$DEPLOY/scripts/backup.sh" --restore "$backup"
fi
compose up -d --no-build
if wait_healthy; then
  echo "rolled back: the previous version runs again; the failed update's logs are above" >&2
else
  echo "rolled back, but the previous version does not answer ok either: see ${HEALTH_URL} and the logs (compose logs)" >&2
fi
exit 1
