#!/usr/bin/env bash
# Checks both ways that a built libhessianlr.so exports exactly the functions its header declares,
# that every exported symbol carries the hlr_ prefix, and that the SONAME carries the major version.
# Usage: tools/check_exports.sh path/to/libhessianlr.so include/hessianlr.h
set -euo pipefail
lib=$1
header=$2

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
declared=$(grep -oE '\bhlr_[a-z0-9_]+[[:space:]]*\(' "$header" | tr -d ' (' | sort -u)

status=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$extra" ]; then
  echo "FAIL: $lib exports symbols the header does not declare:"; echo "$extra"; status=1
fi
if [ -n "$missing" ]; then
  echo "FAIL: the header declares functions $lib does not export:"; echo "$missing"; status=1
fi

major=$(grep -E '^#define HLR_VERSION_MAJOR' "$header" | awk '{print $3}')
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" != "libhessianlr.so.$major" ]; then
  echo "FAIL: SONAME is '$soname', expected libhessianlr.so.$major"; status=1
fi

# Self-contained: no Swift runtime library may be needed at load time.
if readelf -d "$lib" | grep -E 'NEEDED.*(swift|Foundation|dispatch)'; then
  echo "FAIL: $lib needs a Swift runtime library at load time"; status=1
fi

if [ $status -eq 0 ]; then
  echo "ok: $(echo "$exported" | wc -l) exported functions match $header; SONAME $soname; no Swift runtime needed"
fi
exit $status
