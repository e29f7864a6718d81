#!/bin/sh
exec /srv/app/bin/app --config /srv/app/config.toml
