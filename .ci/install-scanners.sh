#!/usr/bin/env bash
# Installs the real anti-virus scanners the scanner tests start themselves: clamd (+ clamdscan,
# the `command:` backend's reference tool) and c-icap with its virus_scan/clamd_mod modules.
# Idempotent (a no-op when everything is there), non-interactive. The tests run private
# instances on temp sockets/ports with a test-written EICAR signature, so the system clamd,
# freshclam and c-icap services that THIS install brings along are stopped and disabled: on an
# offline test machine they only burn CPU and hold the default socket/port. Services of packages
# that were already installed (an admin's real scanner) are never touched.
set -euo pipefail

PACKAGES=(clamav-daemon clamav clamdscan c-icap libc-icap-mod-virus-scan)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "unseal scanner tests need: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Keep maintainer scripts from starting daemons during the install (policy-rc.d exit 101 =
  # "action forbidden"); only if no policy is in place already, and removed afterwards.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  trap '[ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
fi

if [ "$(id -u)" -eq 0 ] && [ ${#missing[@]} -gt 0 ]; then
  units=(clamav-daemon.socket clamav-daemon.service clamav-freshclam.service clamav-freshclam-once.timer clamav-clamonacc.service c-icap.service)
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
  else
    for s in clamav-daemon clamav-freshclam c-icap; do
      [ -x "/etc/init.d/$s" ] && { "/etc/init.d/$s" stop >/dev/null 2>&1 || true; }
      command -v update-rc.d >/dev/null && { update-rc.d "$s" disable >/dev/null 2>&1 || true; }
    done
  fi
  # Daemons started some other way: stop exactly the ones named in the system pid files.
  for pidfile in /run/clamav/clamd.pid /run/clamav/freshclam.pid /run/c-icap/c-icap.pid /var/run/c-icap/c-icap.pid; do
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      case "$pid" in ''|*[!0-9]*) continue ;; esac
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
fi

# Verify what the tests will look for, with the command that fixes it.
for bin in /usr/sbin/clamd /usr/bin/clamdscan /usr/bin/c-icap; do
  [ -x "$bin" ] || { echo "missing $bin after install: apt-get install ${PACKAGES[*]}" >&2; exit 1; }
done
found_mod=0
for m in /usr/lib/*/c_icap/clamd_mod.so /usr/lib/c_icap/clamd_mod.so; do
  [ -e "$m" ] && found_mod=1
done
[ "$found_mod" = 1 ] || { echo "missing c-icap clamd_mod.so: apt-get install libc-icap-mod-virus-scan" >&2; exit 1; }
