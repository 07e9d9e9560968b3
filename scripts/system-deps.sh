#!/usr/bin/env bash
# Debian packages the product itself needs, installed only where missing (as root; otherwise it says
# what to install): Pango for WeasyPrint (the official slips as PDF) and the fonts the slips embed
# (DejaVu; Liberation's Times-metric serif, closer to official documents).
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || need+=(libpangoft2-1.0-0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || need+=(fonts-dejavu-core)
fc-list 2>/dev/null | grep -q 'Liberation Serif' || need+=(fonts-liberation2)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "landflow needs Debian packages: ${need[*]} (apt-get install them as root)" >&2
  exit 1
fi
echo "installing Debian packages for PDF slips: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
