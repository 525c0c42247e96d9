#!/usr/bin/env bash
# Checks that a built libhessianlr.so runs on a baseline x86-64 CPU: instructions beyond the
# baseline (AVX/VEX-encoded, BMI1/2, LZCNT, MOVBE) appear only in the functions of module
# HessianLRLoopsX86V3, which HostLoops calls only on a CPU that has them. (tzcnt is allowed: it
# is `rep bsf`, which a baseline CPU executes as bsf, and the Swift runtime uses it.)
# Usage: tools/check_isa.sh path/to/libhessianlr.so
set -euo pipefail
lib=$1
case "$(uname -m)" in x86_64) ;; *) echo "check_isa: not x86_64, nothing to check"; exit 0 ;; esac

report=$(objdump -d --no-show-raw-insn "$lib" | awk '
  /^[0-9a-f]+ <.*>:$/ { f = $2; next }
  NF >= 2 && $2 ~ /^(v[a-z0-9]+|shlx|shrx|sarx|rorx|andn|bextr|blsi|blsr|blsmsk|bzhi|pdep|pext|lzcnt|movbe|mulx)$/ {
    if (f ~ /HessianLRLoopsX86V3/) v3++; else bad[f " " $2]++
  }
  END { for (k in bad) print "outside:", bad[k], k; print "v3:", v3 + 0 }')
if grep -q '^outside:' <<<"$report"; then
  echo "FAIL: $lib has instructions beyond baseline x86-64 outside HessianLRLoopsX86V3:"
  grep '^outside:' <<<"$report" | head -20
  exit 1
fi
v3=$(awk '/^v3:/ {print $2}' <<<"$report")
if [ "$v3" -eq 0 ]; then
  echo "FAIL: $lib has no x86-64-v3 instructions in HessianLRLoopsX86V3 (was it built with -target-cpu?)"
  exit 1
fi
echo "OK: $lib: $v3 x86-64-v3 instructions, all in HessianLRLoopsX86V3"
