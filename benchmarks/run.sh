#!/usr/bin/env bash
# Runs the whole benchmark suite with short jobs (12 iterations for the Redis classes) and writes benchmarks/RESULTS.md: the machine, the issue's targets
# with this run's figures, every table, bytes per entry and redis-benchmark's ceiling. It starts its own redis-server
# on a free loopback port and stops it at the end, whatever happens. Nothing is written outside the repository except
# under /tmp (BenchmarkDotNet's artifacts, the server's folder), removed at the end unless --keep is given.
#
# Usage: benchmarks/run.sh [options] [-- BenchmarkDotNet options]
#   --job NAME       BenchmarkDotNet job: short (default, ShortRun: 3 warm-ups, 3 iterations), dry, medium, ...
#   --dry            a smoke test of the script in a minute or two: --job dry, 20,000 entries, RESULTS to /tmp
#   --filter GLOB    only the benchmarks matching GLOB (BenchmarkDotNet's --filter, e.g. '*HitPath*'); default '*'
#   --entries N      entries of the memory measure (default 1000000)
#   --no-redis       leave out the Redis benchmarks and redis-benchmark (no redis-server needed)
#   --out FILE       where to write the results (default benchmarks/RESULTS.md)
#   --keep           keep the temporary folder (BenchmarkDotNet's artifacts and logs) and print its path
# Example: benchmarks/run.sh -- --iterationTime 250      (a shorter iteration than ShortRun's 500 ms)
# On a shared machine, hold the build lock for the whole run so that nobody's build skews it:
#   flock -o /tmp/cached-build.lock benchmarks/run.sh
set -euo pipefail

job=short
filter='*'
entries=1000000
redis=1
out=
keep=0
dry=0
extra=()

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --job) job="${2:?--job needs a name}"; shift 2 ;;
    --dry) dry=1; shift ;;
    --filter) filter="${2:?--filter needs a pattern}"; shift 2 ;;
    --entries) entries="${2:?--entries needs a number}"; shift 2 ;;
    --no-redis) redis=0; shift ;;
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$entries" in
  ''|*[!0-9]*) echo "run.sh: --entries takes a positive number, not '$entries'" >&2; exit 2 ;;
esac

# --out is relative to where the script was called from; everything else to the repository.
case "$out" in
  ''|/*) ;;
  *) out="$PWD/$out" ;;
esac
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d /tmp/cached-bench.XXXXXX)"
if [ "$dry" = 1 ]; then
  job=dry
  [ "$entries" = 1000000 ] && entries=20000
  out="${out:-$work/RESULTS.md}"
  keep=1
fi
out="${out:-$repo/benchmarks/RESULTS.md}"

redis_pid=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local status=$?
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 1 ]; then
    echo "Kept $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
step() { printf '\n== %s (%ds)\n' "$1" "$(( $(date +%s) - started ))"; }

step "Building the suite (Release)"
dotnet build benchmarks/Cached.Benchmarks/Cached.Benchmarks.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
suite=(dotnet benchmarks/Cached.Benchmarks/bin/Release/net10.0/Cached.Benchmarks.dll)

# A port nothing listens on; redis-server itself is the final judge (it fails if the port was taken meanwhile).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

start_redis() {
  local port
  for _ in 1 2 3; do
    port=$(free_port) || break
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" \
      >>"$work/redis.out" 2>&1 &
    redis_pid=$!
    for _ in $(seq 1 100); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
        echo "$port"
        return 0
      fi
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
  done
  return 1
}

# The last line of each result, without the progress that -q writes before it on the same line.
quiet_results() { tr '\r' '\n' | grep 'requests per second' || true; }

reports=()
if [ "$redis" = 1 ]; then
  for tool in redis-server redis-cli redis-benchmark; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "run.sh: $tool is not installed (apt-get install -y redis-server, or pass --no-redis)" >&2
      exit 1
    fi
  done

  step "Starting redis-server"
  # Not in a command substitution: the server must be a child of this shell, so that the trap can stop it.
  start_redis > "$work/port" || { echo "run.sh: redis-server did not start, see $work/redis.log" >&2; keep=1; exit 1; }
  port=$(cat "$work/port")
  export CACHED_BENCH_REDIS="127.0.0.1:$port"
  echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $CACHED_BENCH_REDIS"

  step "redis-benchmark: the server's ceiling"
  # A failure here costs the ceiling rows of RESULTS.md, not the run.
  redis-benchmark -h 127.0.0.1 -p "$port" -t get,set,mset -q | quiet_results | tee "$work/redis-benchmark.txt" \
    || echo "run.sh: redis-benchmark failed; RESULTS.md will lack the ceiling" >&2
  redis-benchmark -h 127.0.0.1 -p "$port" -t get,set,mset -q -c 1 -n 20000 | quiet_results | tee "$work/redis-benchmark-single.txt" \
    || echo "run.sh: redis-benchmark -c 1 failed; RESULTS.md will lack the single-client ceiling" >&2
  redis-cli -h 127.0.0.1 -p "$port" flushall >/dev/null
  reports+=(--redis-benchmark "$work/redis-benchmark.txt" --redis-benchmark-single "$work/redis-benchmark-single.txt")
else
  unset CACHED_BENCH_REDIS
fi

step "Memory per entry, $entries entries"
"${suite[@]}" memory --entries "$entries" --out "$work/memory.tsv"

step "Benchmarks (job $job)"
export CACHED_BENCH_NOTES="$work/notes.tsv"
status=0
"${suite[@]}" suite --results "$out" --memory "$work/memory.tsv" --started "$started" ${reports[@]+"${reports[@]}"} \
  --job "$job" --filter "$filter" --artifacts "$work/artifacts" ${extra[@]+"${extra[@]}"} || status=$?

elapsed=$(( $(date +%s) - started ))
printf '\nDone in %dm%02ds: %s\n' $(( elapsed / 60 )) $(( elapsed % 60 )) "$out"
if [ "$status" -ne 0 ]; then
  echo "run.sh: some benchmarks failed (exit $status); their rows say so in $out" >&2
  keep=1
fi
exit "$status"
