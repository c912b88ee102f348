#!/usr/bin/env bash
# One-key install of MCS-IoT on one Docker host (docs/deploy.md).
#
#   deploy/install.sh [--dry-run] [--url https://gas.plant.example] [--cert FILE --key FILE]
#
# Idempotent: a rerun keeps deploy/.env (its secrets are never made again) and the
# certificates, and only starts what is not running. --dry-run checks the host and prints
# the plan; it changes nothing. Without a prerequisite it stops before any change.
set -euo pipefail

DEPLOY="$(cd "$(dirname "$0")" && pwd)"
ENV_FILE="$DEPLOY/.env"
CERTS="$DEPLOY/certs"
DRY_RUN=false
PUBLIC_URL=""
GIVEN_CERT=""
GIVEN_KEY=""
MIN_MEMORY_MB=1800
MIN_DISK_MB=10240
PORTS=(80 443 8883)

host_of() { echo "$1" | sed -E 's#^https?://([^/:]+).*#\1#'; }
usage() {
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --url) PUBLIC_URL="${2:?--url needs an address}"; shift ;;
    --cert) GIVEN_CERT="${2:?--cert needs a file}"; shift ;;
    --key) GIVEN_KEY="${2:?--key needs a file}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if { [ -n "$GIVEN_CERT" ] && [ -z "$GIVEN_KEY" ]; } || { [ -z "$GIVEN_CERT" ] && [ -n "$GIVEN_KEY" ]; }; then
  echo "--cert and --key go together (the server certificate and its private key)" >&2
  exit 2
fi

problems=()
note() { printf '  %-12s %s\n' "$1" "$2"; }

# --- 1. prerequisites: checked before anything is changed -------------------------------
echo "MCS-IoT install: checking this host"
COMPOSE=()
if command -v docker >/dev/null 2>&1; then
  note "docker" "$(docker --version 2>/dev/null || echo found)"
  docker info >/dev/null 2>&1 || problems+=("the Docker engine does not answer: start it (systemctl start docker), and run this as root or as a member of the docker group")
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  fi
  if [ ${#COMPOSE[@]} -gt 0 ]; then note "compose" "${COMPOSE[*]}"; else problems+=("no Compose: install the docker compose plugin (apt-get install docker-compose-plugin) or docker-compose"); fi
else
  problems+=("Docker is not installed: install Docker Engine and its compose plugin first (https://docs.docker.com/engine/install/)")
fi
command -v openssl >/dev/null 2>&1 && note "openssl" "found" || problems+=("openssl is not installed (apt-get install openssl): it makes the certificates and secrets")
[ -r /etc/machine-id ] && note "machine-id" "found (the license is bound to it)" || problems+=("/etc/machine-id is missing: the license is bound to it (systemd-machine-id-setup makes one)")

memory_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo 2>/dev/null || echo 0)
if [ "$memory_mb" -ge "$MIN_MEMORY_MB" ]; then note "memory" "${memory_mb} MB"; else problems+=("memory: ${memory_mb} MB, the stack needs at least ${MIN_MEMORY_MB} MB"); fi
disk_mb=$(df -Pm "$DEPLOY" | awk 'NR == 2 { print $4 }')
if [ "$disk_mb" -ge "$MIN_DISK_MB" ]; then note "disk" "enough free (at least $((MIN_DISK_MB / 1024)) GB)"; else problems+=("disk: ${disk_mb} MB free in $DEPLOY, at least ${MIN_DISK_MB} MB are needed"); fi

running=false
if [ ${#COMPOSE[@]} -gt 0 ] && [ -f "$ENV_FILE" ] && [ -n "$("${COMPOSE[@]}" -f "$DEPLOY/docker-compose.yml" --env-file "$ENV_FILE" ps -q 2>/dev/null)" ]; then running=true; fi
for port in "${PORTS[@]}"; do
  if ! $running && command -v ss >/dev/null 2>&1 && ss -Hltn "sport = :$port" | grep -q .; then
    problems+=("port $port is in use by another program: free it (ss -ltnp 'sport = :$port')")
  fi
done
$running && note "stack" "already running: a rerun only updates it"

if [ ${#problems[@]} -gt 0 ]; then
  echo "cannot install:" >&2
  for problem in "${problems[@]}"; do echo "  - $problem" >&2; done
  if ! $DRY_RUN; then
    echo "nothing was changed." >&2
    exit 1
  fi
fi

# --- 2. the plan: the same on every run, no secret in it ---------------------------------
[ -n "$PUBLIC_URL" ] || PUBLIC_URL="https://$(hostname -f 2>/dev/null || hostname)"
echo "plan:"
if [ -f "$ENV_FILE" ]; then
  echo "  - keep $ENV_FILE (its secrets are kept)"
else
  echo "  - write $ENV_FILE from .env.example with new random secrets, MCS_PUBLIC_URL=$PUBLIC_URL (mode 0600)"
fi
if [ -n "$GIVEN_CERT" ]; then
  echo "  - use the given certificate $GIVEN_CERT and key as $CERTS/server.pem"
elif [ -f "$CERTS/server.pem" ]; then
  echo "  - keep the certificates in $CERTS"
elif [ -f "$CERTS/ca.pem" ] && [ -f "$CERTS/ca-key.pem" ]; then
  echo "  - sign a new server certificate for $(host_of "$PUBLIC_URL") with the CA kept in $CERTS (the detectors keep trusting it)"
else
  echo "  - make a private CA and a server certificate for $(host_of "$PUBLIC_URL") in $CERTS"
fi
echo "  - start the stack: ${COMPOSE[*]:-docker compose} -f $DEPLOY/docker-compose.yml up -d --build"
echo "  - wait for https://localhost/api/health to answer ok"
if $DRY_RUN; then
  echo "dry run: nothing was changed."
  exit 0
fi

# --- 3. do it -----------------------------------------------------------------------------
umask 077
if [ ! -f "$ENV_FILE" ]; then
  secret() { openssl rand -hex 24; }
  sed -e "s#^POSTGRES_PASSWORD=.*#POSTGRES_PASSWORD=$(secret)#" \
      -e "s#^MQTT_WORKER_PASSWORD=.*#MQTT_WORKER_PASSWORD=$(secret)#" \
      -e "s#^MQTT_BACKEND_PASSWORD=.*#MQTT_BACKEND_PASSWORD=$(secret)#" \
      -e "s#^MCS_PUBLIC_URL=.*#MCS_PUBLIC_URL=$PUBLIC_URL#" \
      "$DEPLOY/.env.example" > "$ENV_FILE.partial"
  mv "$ENV_FILE.partial" "$ENV_FILE"
  echo "wrote $ENV_FILE"
fi

mkdir -p "$CERTS"
if [ -n "$GIVEN_CERT" ]; then
  cp "$GIVEN_CERT" "$CERTS/server.pem"
  cp "$GIVEN_KEY" "$CERTS/server-key.pem"
elif [ ! -f "$CERTS/server.pem" ]; then
  host=$(host_of "$PUBLIC_URL")
  # The CA is made once: a new server certificate (renewal, a new address) keeps the one the
  # detectors already trust.
  if [ ! -f "$CERTS/ca.pem" ] || [ ! -f "$CERTS/ca-key.pem" ]; then
    openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=MCS-IoT plant CA" -keyout "$CERTS/ca-key.pem" -out "$CERTS/ca.pem" 2>/dev/null
  fi
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$host" -keyout "$CERTS/server-key.pem" -out "$CERTS/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$host" > "$CERTS/server.ext"
  openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca-key.pem" -CAcreateserial -days 825 -extfile "$CERTS/server.ext" -out "$CERTS/server.pem" 2>/dev/null
  rm -f "$CERTS/server.csr" "$CERTS/server.ext"
  echo "made a server certificate for $host, signed by the private CA in $CERTS/ca.pem"
fi
# The broker and nginx read the key as their own users.
chmod 0644 "$CERTS"/*.pem
chmod 0600 "$CERTS"/ca-key.pem 2>/dev/null || true

"${COMPOSE[@]}" -f "$DEPLOY/docker-compose.yml" --env-file "$ENV_FILE" up -d --build

echo "waiting for the stack to answer on https://localhost/api/health …"
for _ in $(seq 1 90); do
  if curl -fsk https://localhost/api/health 2>/dev/null | grep -q '"status":"ok"'; then
    echo
    echo "MCS-IoT is running at $PUBLIC_URL"
    echo "  first admin password: ${COMPOSE[*]} -f $DEPLOY/docker-compose.yml exec backend cat /data/initial-admin-password"
    echo "  (or the MCS_ADMIN_PASSWORD you set in $ENV_FILE)"
    [ -f "$CERTS/ca.pem" ] && echo "  the CA the detectors trust (MQTT over TLS on port 8883): $CERTS/ca.pem"
    exit 0
  fi
  sleep 2
done
echo "the stack did not answer ok within 3 minutes: see ${COMPOSE[*]} -f $DEPLOY/docker-compose.yml logs" >&2
exit 1
