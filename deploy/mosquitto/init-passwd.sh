#!/bin/sh
# Before the broker starts (compose's one-shot `mosquitto-init`): writes the platform's own
# accounts, mcs-worker and mcs-backend, into Mosquitto's password file with the passwords
# from deploy/.env. Mosquitto refuses to start without the file, and the backend only adds
# and removes devices in it, keeping the service accounts it finds (a rerun after a password
# change in .env updates them, the devices' lines stay).
# It also hands the broker's volumes to the user the broker and the backend run as: Docker
# creates a named volume as root.
#   init-passwd.sh [PASSWORD_FILE]    (default /mosquitto/auth/passwd)
# Environment: MQTT_WORKER_PASSWORD, MQTT_BACKEND_PASSWORD; MOSQUITTO_OWNER (default
# 1000:1000, the image's node user); MOSQUITTO_DATA_DIR (default /mosquitto/data).
set -eu

file="${1:-/mosquitto/auth/passwd}"
owner="${MOSQUITTO_OWNER:-1000:1000}"
data="${MOSQUITTO_DATA_DIR:-/mosquitto/data}"
: "${MQTT_WORKER_PASSWORD:?set MQTT_WORKER_PASSWORD (deploy/.env)}"
: "${MQTT_BACKEND_PASSWORD:?set MQTT_BACKEND_PASSWORD (deploy/.env)}"

umask 077
mkdir -p "$(dirname "$file")"
[ -f "$file" ] || : >"$file"
mosquitto_passwd -b "$file" mcs-worker "$MQTT_WORKER_PASSWORD"
mosquitto_passwd -b "$file" mcs-backend "$MQTT_BACKEND_PASSWORD"
chmod 600 "$file"

# The backend replaces the file by renaming a new one into the folder: it needs the folder too.
if [ "$(id -u)" = 0 ]; then
  chown "$owner" "$(dirname "$file")" "$file"
  [ ! -d "$data" ] || chown -R "$owner" "$data"
fi
echo "mosquitto-init: mcs-worker and mcs-backend set in $file"
