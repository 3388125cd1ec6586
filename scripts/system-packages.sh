#!/usr/bin/env bash
# System packages the local runtime and the tests need. Installs only what is missing.
#   java 17          Spark 3.5 (as on AWS Glue 5.x)
#   postgresql       a real server the JDBC tests start on 127.0.0.1
#   postgresql.jar   the JDBC driver Spark loads (Debian's libpostgresql-jdbc-java)
#   graphviz         `dot`, which draws workflow pictures (cauce sfn diagram --format svg)
set -euo pipefail
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
[ -f /usr/share/java/postgresql.jar ] || missing+=(libpostgresql-jdbc-java)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "cauce setup: missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "cauce setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
