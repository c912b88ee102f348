#!/usr/bin/env bash
# Backup of an MCS-IoT installation: the database (pg_dump -Fc), deploy/.env, the
# certificates and Mosquitto's password file, in one dated .tar.gz; the newest --keep are kept.
#
#   deploy/scripts/backup.sh [--dir DIR] [--keep N]
#   deploy/scripts/backup.sh --restore FILE
#
# The database is the compose stack's (docker compose exec timescaledb), or the one
# DATABASE_URL names when it is set (a host without containers, and the tests).
# A restore replaces the database with the backup's (the one replaced is kept as
# mcs_before_restore); the files it brings back are put in place, and those they replace
# are kept beside them as *.before-restore. Stop the backend and the worker first.
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
# DATABASE_URL with another database's name in it.
url_of() {
  local base="${DATABASE_URL%%\?*}"
  echo "${base%/*}/$1${DATABASE_URL#"$base"}"
}
live_database() {
  if [ -n "${DATABASE_URL:-}" ]; then local base="${DATABASE_URL%%\?*}"; echo "${base##*/}"; else echo mcs; fi
}
# SQL on the database named first (`postgres`: the server's maintenance database).
psql_on() {
  local database="$1"; shift
  if [ -n "${DATABASE_URL:-}" ]; then
    psql -qtA -v ON_ERROR_STOP=1 -d "$(url_of "$database")" -c "SET client_min_messages = warning" "$@"
  else
    compose exec -T timescaledb psql -qtA -U mcs -v ON_ERROR_STOP=1 -d "$database" -c "SET client_min_messages = warning" "$@"
  fi
}
restore_into() {
  if [ -n "${DATABASE_URL:-}" ]; then
    pg_restore --no-owner --single-transaction --exit-on-error -d "$(url_of "$1")" "$2"
  else
    compose exec -T timescaledb pg_restore -U mcs --no-owner --single-transaction --exit-on-error -d "$1" < "$2"
  fi
}
# The backup goes into a new database beside the live one, which it replaces only once the
# whole restore has succeeded: a failed restore leaves the live database as it was. The one
# replaced is kept as <name>_before_restore (until the next restore) in case the wrong backup
# was chosen. TimescaleDB (the compose image) wants its extension and timescaledb_pre_restore()
# before pg_restore, and timescaledb_post_restore() after; a plain PostgreSQL does without.
restore_database() {
  local dump="$1" live staged kept timescale=false
  live=$(live_database); staged="${live}_restore"; kept="${live}_before_restore"
  pg_restore --list "$dump" | grep -q ' EXTENSION - timescaledb$' && timescale=true
  psql_on postgres -c "DROP DATABASE IF EXISTS \"$staged\"" -c "CREATE DATABASE \"$staged\""
  if { ! $timescale || psql_on "$staged" -c "CREATE EXTENSION IF NOT EXISTS timescaledb" -c "SELECT timescaledb_pre_restore()" >/dev/null; } &&
     restore_into "$staged" "$dump" &&
     { ! $timescale || psql_on "$staged" -c "SELECT timescaledb_post_restore()" >/dev/null; }; then
    # Whoever is still connected (the backend and the worker should be stopped) is let go.
    psql_on postgres -c "DROP DATABASE IF EXISTS \"$kept\"" \
      -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$live' AND pid <> pg_backend_pid()" \
      -c "ALTER DATABASE \"$live\" RENAME TO \"$kept\"" -c "ALTER DATABASE \"$staged\" RENAME TO \"$live\"" >/dev/null
    echo "the database $live is the backup's now; the one before is kept as $kept (DROP DATABASE $kept once you no longer need it)"
  else
    psql_on postgres -c "DROP DATABASE IF EXISTS \"$staged\""
    echo "the restore failed: the database $live is as it was" >&2
    exit 1
  fi
}
# PostgreSQL keeps the password it was first started with (its volume), not .env's: after a
# restore that brought back another .env (a move to a new server), the role takes the
# restored .env's password, or the backend and the worker could not log in.
realign_database_password() {
  [ -z "${DATABASE_URL:-}" ] && [ -f "$DEPLOY/.env" ] || return 0
  local password
  password=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$DEPLOY/.env" | tail -n 1)
  [ -n "$password" ] || return 0
  # On stdin, not in a command line; a quote in the password doubled for SQL.
  printf "ALTER ROLE mcs PASSWORD '%s';\n" "${password//\'/\'\'}" | compose exec -T timescaledb psql -qtA -U mcs -v ON_ERROR_STOP=1 -d postgres >/dev/null
  echo "the database role mcs has the restored .env's POSTGRES_PASSWORD"
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
  realign_database_password
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
