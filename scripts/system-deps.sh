#!/usr/bin/env bash
# The Debian packages the full test suite needs beside Node.js, installed when missing (as root with
# apt-get, as on the project's machines and CI), so that `npm test` alone sets up a fresh machine:
#   openssl   the tests make their PKI (CAs, node and server certificates) with the openssl CLI
#   chromium  the web page's browser test drives Debian's Chromium (nothing downloads a browser)
#   make, cc  npm ci compiles the XS engine for the XS test lane (postinstall)
# Elsewhere it names what is missing and how to install it, and fails.
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v make >/dev/null || missing+=(make)
command -v cc >/dev/null || missing+=(gcc)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "system-deps: installing ${missing[*]} from Debian" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	exit 0
fi
echo "system-deps: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]}) and run again" >&2
exit 1
