#!/usr/bin/env bash
# Checks the C replay program (Tests/determinism/c/replay.c) on hand-written scenarios.
#
#   Tests/c/replay/run.sh [REPLAY]      (default build/tests/c/replay; build it with
#                                        make "$PWD/build/tests/c/replay" from the repository root)
#
# 1. basic.scenario gives exactly basic.expected (computed by hand from the documented rule:
#    warmup, update period 2, smoothing 0, a NaN observation -> status 6, negative curvature and
#    zero gradient, a negative g'g -> status 3, and a save_restore in the middle).
# 2. The same scenario without its save_restore line gives the same trace.
# 3. Malformed scenarios and failing set/create calls exit 2 with a message on stderr.
set -u
here=$(cd "$(dirname "$0")" && pwd)
replay=${1:-build/tests/c/replay}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

check() { # name, condition result
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

"$replay" "$here/basic.scenario" >"$tmp/out" 2>"$tmp/err"
check "basic: exit 0" $?
cmp -s "$tmp/out" "$here/basic.expected"
check "basic: trace matches basic.expected" $?

grep -v '^save_restore' "$here/basic.scenario" >"$tmp/plain.scenario"
"$replay" "$tmp/plain.scenario" >"$tmp/plain.out" 2>/dev/null
cmp -s "$tmp/plain.out" "$here/basic.expected"
check "basic without save_restore: same trace" $?

# A save_restore after every step changes nothing either.
{ sed -n '1,8p' "$here/basic.scenario"; for t in 0 1 2 3 4 5 6 7 8; do echo "save_restore $t"; done
  grep '^step' "$here/basic.scenario"; } >"$tmp/every.scenario"
"$replay" "$tmp/every.scenario" >"$tmp/every.out" 2>/dev/null
cmp -s "$tmp/every.out" "$here/basic.expected"
check "save_restore after every step: same trace" $?

expect_2() { # name, scenario file
    "$replay" "$2" >/dev/null 2>"$tmp/err"
    local status=$?
    [ "$status" -eq 2 ] && [ -s "$tmp/err" ]
    check "malformed ($1): exit 2 with a message [$(head -c 100 "$tmp/err" | tr '\n' ' ')]" $?
}

mutate() { # name, sed expression
    sed "$2" "$here/basic.scenario" >"$tmp/bad.scenario"
    expect_2 "$1" "$tmp/bad.scenario"
}

mutate "wrong header"            '1s/.*/hlr-replay 2/'
mutate "missing header"          '1d'
mutate "method not a number"     '2s/.*/method one/'
mutate "unknown method"          '2s/.*/method 7/'
mutate "zero groups"             '3s/.*/groups 0/'
mutate "too many groups"         '3s/.*/groups 99999999999/'
mutate "uppercase hex"           '4s/4000000000000000/4000000000000000/;10s/0000000000000000/ABCDEF0000000000/'
mutate "short hex"               '10s/ 0000000000000000$/ 000000000000000/'
mutate "long hex"                '10s/ 0000000000000000$/ 00000000000000000/'
mutate "0x prefix"               '4s/4000000000000000/0x40000000000000/'
mutate "too few values"          '10s/ 0000000000000000$//'
mutate "too many values"         '10s/$/ 0000000000000000/'
mutate "double space"            '10s/step 0 /step 0  /'
mutate "trailing space"          '10s/$/ /'
mutate "non-consecutive step"    '11s/step 1 /step 2 /'
mutate "steps not from 0"        '10d'
mutate "param after step"        '11s/.*/param 8 0000000000000000/'
mutate "failing param (smoothing 1.5)" '5s/.*/param 8 3ff8000000000000/'
mutate "unknown param key"       '5s/.*/param 99 0000000000000000/'
mutate "failing group_param"     '7s/.*/group_param 2 1 3fd0000000000000/'
mutate "unknown record"          '9s/.*/frobnicate 3/'
mutate "blank line"              '9s/.*//'
mutate "CRLF line"               '10s/$/\r/'
mutate "save_restore twice args" '9s/.*/save_restore 2 3/'
mutate "negative step"           '10s/step 0 /step -1 /'
expect_2 "missing file" "$tmp/does-not-exist"

"$replay" >/dev/null 2>&1
[ $? -eq 2 ]
check "no argument: exit 2" $?

echo "replay checks: $failures failed"
[ "$failures" -eq 0 ]
