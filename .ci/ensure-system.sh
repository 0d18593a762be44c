#!/usr/bin/env bash
# Makes sure the system tools the tests use are present: openssl (reference and vector
# generation), clamd and c-icap (real scanners). Installs them when run as root; otherwise prints
# the one apt-get line to run. Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v clamd >/dev/null || need+=(clamav-daemon clamav)
command -v clamdscan >/dev/null || need+=(clamdscan)
command -v c-icap >/dev/null || need+=(c-icap libc-icap-mod-virus-scan)
[ -e /usr/lib/x86_64-linux-gnu/c_icap/virus_scan.so ] || [ -e /usr/lib/c_icap/virus_scan.so ] || need+=(libc-icap-mod-virus-scan)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "unseal tests need system packages; run once:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
if [ -x .ci/install-scanners.sh ] || [ -f .ci/install-scanners.sh ]; then
  bash .ci/install-scanners.sh
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
