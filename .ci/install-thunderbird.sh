#!/usr/bin/env bash
# Installs what the real-Thunderbird tests (test/e2e) need: Thunderbird ESR, an X server for
# screenshots (Xvfb + xauth + x11-utils + imagemagick's `import`) and `zip` (build.mjs packs the
# .xpi with it). Idempotent: exits at once when everything is present. Non-interactive. As a
# non-root user it only prints the apt-get line to run.
set -euo pipefail
need=()
[ -x /usr/lib/thunderbird/thunderbird ] || need+=(thunderbird)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xauth >/dev/null || need+=(xauth)
command -v xdpyinfo >/dev/null || need+=(x11-utils)
command -v import >/dev/null || need+=(imagemagick)
command -v zip >/dev/null || need+=(zip)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "unseal e2e tests need system packages; run once:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ -x /usr/lib/thunderbird/thunderbird ] || { echo "thunderbird binary missing after install" >&2; exit 1; }
