#!/usr/bin/env bash
# `make test` runs this first: the suite talks to a real Redis (the job tests) and starts its own
# Dovecot (the mail tests), so both must be on the machine (and `build-deps` below, earlier still,
# what mysqlclient builds with). What is missing is installed from Debian's packages when we may
# (root with apt-get), and Redis is started if it is not answering.
# Anything we cannot do ourselves stops the run with the exact command to type.
set -euo pipefail

as_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

install_packages() {  # install_packages PACKAGE...
  if ! as_root; then
    echo "make test needs: sudo apt-get install -y $*" >&2
    exit 1
  fi
  echo "installing $* (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

# `make dev-venv` runs `tests/services.sh build-deps PYTHON` before pip installs the dev lock:
# mysqlclient (the C MariaDB driver the suite also runs on) has no Linux wheels and builds from
# source, with a C compiler, Python's headers, pkg-config and MariaDB's client headers.
if [ "${1:-}" = build-deps ]; then
  python=${2:-python3}
  missing=()
  command -v cc >/dev/null || missing+=(gcc)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  pkg-config --exists mariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || missing+=(libmariadb-dev)
  "$python" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_path("include") + "/Python.h"))' \
    || missing+=(python3-dev)
  if [ ${#missing[@]} -gt 0 ]; then install_packages "${missing[@]}"; fi
  exit 0
fi

# Dovecot: the mail tests start their own from tests/mail/dovecot.conf on a free port.
if ! command -v dovecot >/dev/null && [ ! -x /usr/sbin/dovecot ]; then
  install_packages dovecot-imapd
fi

# Redis: the job tests use database 15 of the Redis on 127.0.0.1:6379 (or REDIS_URL's).
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/15}
case "$redis_url" in
  redis://127.0.0.1:6379/* | redis://localhost:6379/*)
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
      install_packages redis-server
    fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
      echo "starting Redis on 127.0.0.1:6379 (nothing kept on disk)"
      mkdir -p /tmp/autotrack-redis
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/autotrack-redis --logfile /tmp/autotrack-redis/redis.log
      for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
    fi ;;
esac

# `make test-browser`: Debian's Chromium, driven by Playwright (which cannot download its own here).
if [ "${1:-}" = browser ] && [ ! -x /usr/bin/chromium ]; then
  install_packages chromium
fi
