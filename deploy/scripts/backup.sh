#!/usr/bin/env bash
# Backup of an MCS-IoT installation: the database (pg_dump -Fc), deploy/.env, the
# certificates and Mosquitto's password file, in one dated .tar.gz; the newest --keep are kept.
#
#   deploy/scripts/backup.sh [--dir DIR] [--keep N]
#   deploy/scripts/backup.sh --restore FILE
#
# The database is the compose stack's (docker compose exec timescaledb), or the one
# DATABASE_URL names when it is set (a host without containers, and the tests).
# A restore replaces the database's contents with the backup's; the files it brings back
# are put in place, and those they replace are kept beside them as *.before-restore.
set -euo pipefail

DEPLOY="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$DEPLOY/backups"
KEEP=14
RESTORE=""

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="${2:?--dir needs a folder}"; shift ;;
    --keep) KEEP="${2:?--keep needs a number}"; shift ;;
    --restore) RESTORE="${2:?--restore needs a backup file}"; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$KEEP" in ''|*[!0-9]*|0) echo "--keep is a whole number of backups, at least 1" >&2; exit 2 ;; esac

compose() {
  local files=(-f "$DEPLOY/docker-compose.yml" --env-file "$DEPLOY/.env")
  if docker compose version >/dev/null 2>&1; then docker compose "${files[@]}" "$@"; else docker-compose "${files[@]}" "$@"; fi
}
dump_database() {
  if [ -n "${DATABASE_URL:-}" ]; then pg_dump -Fc --no-owner "$DATABASE_URL"; else compose exec -T timescaledb pg_dump -U mcs -Fc --no-owner mcs; fi
}
# One transaction: the schema is emptied and the dump's contents loaded, or, on any error,
# nothing changes. (pg_restore --clean cannot drop the daily partitions' inherited keys.)
restore_database() {
  local reset="SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
  if [ -n "${DATABASE_URL:-}" ]; then
    { echo "$reset"; pg_restore --no-owner -f - "$1"; } | psql -q -v ON_ERROR_STOP=1 --single-transaction -d "$DATABASE_URL" >/dev/null
  else
    { echo "$reset"; compose exec -T timescaledb pg_restore --no-owner -f - < "$1"; } | compose exec -T timescaledb psql -q -U mcs -v ON_ERROR_STOP=1 --single-transaction -d mcs >/dev/null
  fi
}
password_file() {
  if [ -n "${MOSQUITTO_PASSWORD_FILE:-}" ]; then cat "$MOSQUITTO_PASSWORD_FILE" 2>/dev/null || true
  elif [ -z "${DATABASE_URL:-}" ]; then compose exec -T mosquitto cat /mosquitto/auth/passwd 2>/dev/null || true
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "$RESTORE" ]; then
  [ -f "$RESTORE" ] || { echo "no backup file $RESTORE" >&2; exit 2; }
  tar -xzf "$RESTORE" -C "$work" || { echo "$RESTORE is not a backup of this tool (not a .tar.gz)" >&2; exit 2; }
  [ -f "$work/database.dump" ] || { echo "$RESTORE holds no database.dump: not a backup of this tool" >&2; exit 2; }
  # Checked whole before anything is replaced: a broken dump leaves the database as it is.
  pg_restore --list "$work/database.dump" >/dev/null || { echo "$RESTORE: its database.dump cannot be read" >&2; exit 2; }
  restore_database "$work/database.dump"
  for name in .env certs; do
    [ -e "$work/files/$name" ] || continue
    [ -e "$DEPLOY/$name" ] && rm -rf "$DEPLOY/$name.before-restore" && mv "$DEPLOY/$name" "$DEPLOY/$name.before-restore"
    cp -a "$work/files/$name" "$DEPLOY/$name"
  done
  [ -s "$work/files/mosquitto-passwd" ] && echo "Mosquitto's password file is in the backup; the backend writes it again from the database at its start."
  echo "restored $RESTORE"
  exit 0
fi

mkdir -p "$DIR" "$work/files"
chmod 0700 "$DIR"
dump_database > "$work/database.dump"
[ -f "$DEPLOY/.env" ] && cp -a "$DEPLOY/.env" "$work/files/.env"
[ -d "$DEPLOY/certs" ] && cp -a "$DEPLOY/certs" "$work/files/certs"
password_file > "$work/files/mosquitto-passwd"
name="mcs-backup-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
umask 077
tar -czf "$DIR/$name.partial" -C "$work" database.dump files
mv "$DIR/$name.partial" "$DIR/$name"
echo "wrote $DIR/$name ($(du -h "$DIR/$name" | cut -f1))"

# Rotation: the newest $KEEP stay.
find "$DIR" -maxdepth 1 -name 'mcs-backup-*.tar.gz' -print | sort -r | tail -n "+$((KEEP + 1))" | while read -r old; do
  rm -f "$old"
  echo "removed the old backup $old"
done
