#!/usr/bin/env bash
# Drives the WebApp sample with cache hits, misses and invalidations, so that `dotnet-counters` has something to show
# (docs/observability.md, "Seeing the counters with dotnet-counters"). One request at a time, each round:
#
#   GET /users/{1..5}          users 1-3 hit once cached; 4 and 5 do not exist, are never cached and always miss
#   GET /users?ids=1&ids=2&ids=3  one MultiGet of 3 keys ([MultiCached]): 3 reads in the counters
#   GET /users                 the list, under users:all
#   GET /quotes/ACME           fresh for 2 s: a miss every 2 s, hits in between
#   every 20th round: PUT /users/{1..3}, which invalidates that user and the list: the store is read again for them
#
# From a third of the run to two thirds, the quote source is down (POST /source/down): past its 2 s the last quote
# is served (cached.resilience.stale_served) instead of an error.
#
#   samples/WebApp/load.sh [base-url] [seconds]      # defaults: http://127.0.0.1:5000 30
set -euo pipefail

base=${1:-http://127.0.0.1:5000}
seconds=${2:-30}

start=$SECONDS
end=$((start + seconds))
down_at=$((start + seconds / 3))
up_at=$((start + 2 * seconds / 3))
state=up
round=0

get() { curl -s -o /dev/null "$@"; }

while ((SECONDS < end)); do
    round=$((round + 1))

    if [[ $state == up ]] && ((SECONDS >= down_at && SECONDS < up_at)); then
        get -X POST "$base/source/down"
        state=down
    elif [[ $state == down ]] && ((SECONDS >= up_at)); then
        get -X POST "$base/source/up"
        state=up
    fi

    get "$base/users/$((round % 5 + 1))"
    get "$base/users?ids=1&ids=2&ids=3"
    get "$base/users"
    get "$base/quotes/ACME"

    if ((round % 20 == 0)); then
        get -X PUT -H 'Content-Type: application/json' -d "{\"name\":\"User $round\"}" "$base/users/$((round % 3 + 1))"
    fi
done

[[ $state == up ]] || get -X POST "$base/source/up"
echo "$round rounds in $seconds s"
curl -s "$base/stats"
echo
curl -s "$base/source"
echo
