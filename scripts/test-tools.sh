#!/usr/bin/env bash
# Test-only tools for the diagram and page tests (tests/workflows/test_diagrams_render.py, tests/web), the
# signing-agent tests (SoftHSM2) and
# the slow-clients test (nginx):
#   - bpmn-js from the npm registry, pinned in package.json / package-lock.json (`npm ci`);
#   - Debian's chromium at /usr/bin/chromium, driven by Playwright (never `playwright install`).
# Each is installed only where missing, so `make test` stays fast on a prepared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# node_modules is current when it carries the stamp of this package-lock.json.
STAMP="node_modules/.landflow-$(sha1sum package-lock.json | cut -c1-12)"
if [ ! -f "$STAMP" ] || [ ! -f node_modules/bpmn-js/dist/bpmn-viewer.production.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: installing Debian's nodejs and npm" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  fi
  npm ci --no-audit --no-fund --loglevel=error
  touch "$STAMP"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "chromium not found: installing Debian's chromium (about 2 minutes)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# pdftoppm (Debian's poppler-utils): the slip tests turn PDF pages into PNG to decode their QR code
if ! command -v pdftoppm >/dev/null 2>&1; then
  echo "pdftoppm not found: installing Debian's poppler-utils" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq poppler-utils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }
fi

# nginx for the slow-clients test (tests/reliability/test_slow_clients.py), in front of `landflow serve`
# with deploy/nginx/landflow.conf; the test runs it in the foreground on 127.0.0.1, never as a service.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "nginx not found: installing Debian's nginx" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq nginx >/dev/null
fi

# openssl (Debian's openssl) for the standard-tools recipe of docs/citizen.md that
# tests/api/test_proofs_api.py runs as written (sha256sum and base64 come with coreutils)
if ! command -v openssl >/dev/null 2>&1; then
  echo "openssl not found: installing Debian's openssl" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
fi

# SoftHSM2 (Debian's softhsm2): the real PKCS#11 token of the signing-agent tests (tests/api/test_signer_agent.py);
# the tests make their token in a temporary SOFTHSM2_CONF folder, never the machine's.
if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm2 not found: installing Debian's softhsm2" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq softhsm2 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq softhsm2 >/dev/null; }
fi
