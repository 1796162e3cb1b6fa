#!/usr/bin/env bash
# What the test suite needs from the machine, installed from Debian's packages when missing:
#   postgresql  the real PostgreSQL server half of the suite (the suite starts a throwaway cluster);
#               skipped when EXALATE_TEST_DATABASE_URL points at a server already
#   chromium    the browser tests of the tracker frontends (driven by playwright-core); skipped
#               when CHROMIUM_PATH points at a Chromium already
#   a JDK, libservlet-api-java, libgoogle-gson-java, bnd
#               the Jira Data Center app's jar (npm run package:jira)
#   libjetty9-java  the Jira simulator runs the app's servlet in it
set -euo pipefail
need=()
if [ -z "${EXALATE_TEST_DATABASE_URL:-}" ] && [ "${EXALATE_TEST_SKIP_POSTGRES:-}" != "1" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ -z "${CHROMIUM_PATH:-}" ] && ! [ -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v bnd >/dev/null || need+=(bnd)
[ -f /usr/share/java/servlet-api.jar ] || need+=(libservlet-api-java)
[ -f /usr/share/java/gson.jar ] || need+=(libgoogle-gson-java)
[ -f /usr/share/java/jetty9-server.jar ] || need+=(libjetty9-java)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The test suite needs these Debian packages: ${need[*]}. Install them (sudo apt-get install ${need[*]})," >&2
  echo "or set EXALATE_TEST_DATABASE_URL to a PostgreSQL server you have and CHROMIUM_PATH to a Chromium." >&2
  exit 1
fi
echo "Installing ${need[*]} for the test suite…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
