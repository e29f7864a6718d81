#!/bin/sh
# Acme node health check, run by acme-healthcheck.timer.
# Logs one line to the journal; exits non-zero (failing the unit) when the node needs attention,
# so `systemctl --failed` and the monitoring agent see it.
set -u

status=0

# The persistent partition holds /home, /var/log and /var/lib: a full one breaks logins and upgrades.
used=$(df --output=pcent /usr/local 2>/dev/null | tail -n 1 | tr -dc '0-9')
if [ -n "$used" ] && [ "$used" -ge 90 ]; then
  echo "persistent partition ${used}% full"
  status=1
fi

# "degraded" means at least one unit failed; "running" is the only healthy state.
state=$(systemctl is-system-running 2>/dev/null || true)
if [ "$state" != "running" ]; then
  echo "systemd state: $state"
  status=1
fi

[ "$status" -eq 0 ] && echo "healthy"
exit "$status"
