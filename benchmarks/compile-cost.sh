#!/usr/bin/env bash
# What the generator costs a build (issue 14, item 9): writes a project with N cached methods (default 1,000) and the
# same project with hand-written pass-through bodies, builds each from scratch several times, with the compiler server
# and with a new compiler process each time, and prints as a Markdown table: generated lines per method, the
# compiler's time for each project and their ratio, the whole build's CPU time, and the generator's own time per
# method (csc /reportanalyzer).
#
# Usage: benchmarks/compile-cost.sh [--methods N] [--runs N] [--out FILE] [--results FILE] [--keep]
#   --methods N     cached methods in the project (default 1000, a multiple of 10)
#   --runs N        builds of each project; the table shows the median (default 3)
#   --out FILE      also write the table to FILE
#   --results FILE  put the table in FILE's compile-cost section (benchmarks/RESULTS.md; run.sh keeps it)
#   --keep          keep the temporary folder and print its path
# On a shared machine hold the build lock, so that nobody's build skews the figures:
#   flock -o /tmp/cached-build.lock benchmarks/compile-cost.sh
set -euo pipefail

methods=1000
runs=3
out=
results=
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --methods) methods="${2:?--methods needs a number}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --results) results="${2:?--results needs a file}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile-cost.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$methods" in ''|*[!0-9]*) echo "compile-cost.sh: --methods takes a number" >&2; exit 2 ;; esac
case "$runs" in ''|*[!0-9]*|0) echo "compile-cost.sh: --runs takes a positive number" >&2; exit 2 ;; esac
if [ $((methods % 10)) -ne 0 ] || [ "$methods" -eq 0 ]; then
  echo "compile-cost.sh: --methods must be a positive multiple of 10" >&2
  exit 2
fi
case "$out" in ''|/*) ;; *) out="$PWD/$out" ;; esac
case "$results" in ''|/*) ;; *) results="$PWD/$results" ;; esac

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
work="$(mktemp -d /tmp/cached-compile.XXXXXX)"
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() { local s=$?; if [ "$keep" = 1 ]; then echo "Kept $work"; else rm -rf "$work"; fi; exit "$s"; }
trap cleanup EXIT

echo "Building Cached.Core and the generator (Release)" >&2
dotnet build "$repo/src/Cached.Core/Cached.Core.csproj" -c Release -f net10.0 -nologo -v quiet -clp:ErrorsOnly >&2
core="$repo/src/Cached.Core/bin/Release/net10.0/Cached.Core.dll"
generator="$repo/src/Cached.Generators/bin/Release/netstandard2.0/Cached.Generators.dll"

# One project; GENERATED decides whether the methods are [Cached] partials or hand-written pass-throughs.
write_project() {
  local dir=$1 generated=$2
  mkdir -p "$dir"
  {
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup>'
    echo '    <TargetFramework>net10.0</TargetFramework><OutputType>Library</OutputType><Nullable>enable</Nullable>'
    echo '    <ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors>'
    echo '    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles><ReportAnalyzer>true</ReportAnalyzer>'
    echo '    <GenerateDocumentationFile>false</GenerateDocumentationFile>'
    echo '  </PropertyGroup>'
    echo "  <ItemGroup><Reference Include=\"$core\" /></ItemGroup>"
    [ "$generated" = 1 ] && echo "  <ItemGroup><Analyzer Include=\"$generator\" /></ItemGroup>"
    echo '</Project>'
  } > "$dir/Bench.csproj"
  echo 'namespace Bench; public sealed record Item(int Id, string Name); public enum Color { Red, Green }' > "$dir/Models.cs"

  local classes=$((methods / 10)) c m
  for c in $(seq 1 "$classes"); do
    {
      echo 'using Cached;'
      echo 'namespace Bench;'
      echo "public sealed partial class Service$c"
      echo '{'
      for m in 0 1 2 3 4 5 6 7 8 9; do
        write_method "$generated" "M$m" $m
      done
      echo '}'
    } > "$dir/Service$c.cs"
  done
}

# Ten shapes, one per method of a class: sync, Task and ValueTask; default and template keys; 0 to 3 key arguments;
# a CancellationToken; an instance of a record as the result.
write_method() {
  local generated=$1 name=$2 shape=$3 attribute signature call
  case $shape in
    0) attribute='[Cached(Ttl = 10)]'; signature="int $name(int id)"; call='id' ;;
    1) attribute='[Cached(Ttl = 10, Key = "item:{id}")]'; signature="Task<Item> $name(int id)"; call='id' ;;
    2) attribute='[Cached]'; signature="ValueTask<string> $name(string name, int page, CancellationToken ct)"; call='name, page, ct' ;;
    3) attribute='[Cached(Key = "color:{color}:{id}")]'; signature="string $name(Color color, int id)"; call='color, id' ;;
    4) attribute='[Cached(Ttl = 60)]'; signature="Task<int> $name(Guid tenant, string name, long version)"; call='tenant, name, version' ;;
    5) attribute='[Cached]'; signature="Item $name()"; call='' ;;
    6) attribute='[Cached(Ttl = 5, Key = "page:{name}:{page}")]'; signature="ValueTask<Item> $name(string name, int page)"; call='name, page' ;;
    7) attribute='[Cached]'; signature="Task<string> $name(DateTime day, CancellationToken ct)"; call='day, ct' ;;
    8) attribute='[Cached(Ttl = 1)]'; signature="long $name(long id, bool fresh)"; call='id, fresh' ;;
    9) attribute='[Cached(Key = "static:{id}")]'; signature="Task<Item> $name(int id)"; call='id' ;;
  esac
  local static=''
  [ "$shape" = 9 ] && static='static '
  local modifiers="public $static"
  if [ "$generated" = 1 ]; then
    echo "    $attribute"
    echo "    ${modifiers}partial $signature;"
  else
    echo "    ${modifiers}$signature => ${name}Core($call);"
  fi
  # The user's own body, the same in both projects.
  local core_signature="$static${signature/ $name(/ ${name}Core(}"
  case $shape in
    0) echo "    private $core_signature => id * 2;" ;;
    1|9) echo "    private $core_signature => Task.FromResult(new Item(id, \"x\"));" ;;
    2) echo "    private $core_signature => new(name + page);" ;;
    3) echo "    private $core_signature => color.ToString() + id;" ;;
    4) echo "    private $core_signature => Task.FromResult(name.Length + (int)version + tenant.GetHashCode());" ;;
    5) echo "    private $core_signature => new(1, \"x\");" ;;
    6) echo "    private $core_signature => new(new Item(page, name));" ;;
    7) echo "    private $core_signature => Task.FromResult(day.ToString(\"O\"));" ;;
    8) echo "    private $core_signature => fresh ? id : -id;" ;;
  esac
}

write_project "$work/generated" 1
write_project "$work/handwritten" 0

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Builds a project from scratch (no incremental state) RUNS times in MODE and records per run the compiler's time (the
# Csc task in the performance summary), the CPU seconds of the whole build (the compiler's own only when it runs in
# the build's process tree, without the server) and the generator's time. "server": the compiler server that
# `dotnet build` uses by default, warmed up by one build first, as on a developer's machine; "cold": a new compiler
# process every build (UseSharedCompilation=false, as some CI machines set), which pays for loading and JIT-compiling
# the compiler and the generator each time.
measure() {
  local dir=$1 name=$2 mode=$3 shared=true first=0 i
  [ "$mode" = cold ] && shared=false first=1
  : > "$work/$name.$mode.cpu"; : > "$work/$name.$mode.csc"; : > "$work/$name.$mode.gen"
  for i in $(seq "$first" "$runs"); do
    rm -rf "$dir/bin" "$dir/obj/Release"
    /usr/bin/time -f '%U %S' -o "$work/time" dotnet build "$dir" -c Release --no-restore -nologo -nodeReuse:false \
      -p:UseSharedCompilation="$shared" -clp:PerformanceSummary -v detailed > "$work/$name.log" 2>&1 \
      || { tail -50 "$work/$name.log" >&2; echo "compile-cost.sh: the $name project did not build" >&2; exit 1; }
    [ "$i" = 0 ] && continue
    awk '{ printf "%.2f\n", $1 + $2 }' "$work/time" >> "$work/$name.$mode.cpu"
    # "      1234 ms  Csc   1 calls" in the task performance summary.
    grep -E '^ +[0-9]+ ms +Csc +[0-9]+ calls' "$work/$name.log" | awk '{ printf "%.2f\n", $1 / 1000 }' >> "$work/$name.$mode.csc"
    # csc /reportanalyzer lists each generator's seconds: "   0.502   44      Cached.Generators.CachedGenerator".
    grep -E '^ +[0-9.]+ +[0-9]+ +Cached\.Generators\.CachedGenerator$' "$work/$name.log" | awk '{ print $1 }' \
      >> "$work/$name.$mode.gen" || true
  done
}

# One table row: a label, the hand-written and generated medians of a measure, their ratio and the target.
row() {
  local label=$1 measure=$2 target=$3 hand gen
  hand=$(median < "$work/handwritten.$measure"); gen=$(median < "$work/generated.$measure")
  awk -v l="$label" -v h="$hand" -v g="$gen" -v t="$target" 'BEGIN { printf "| %s | %.2f | %.2f | %.2fx | %s |\n", l, h, g, g / h, t }'
}

dotnet restore "$work/handwritten" -nologo -v quiet >&2
dotnet restore "$work/generated" -nologo -v quiet >&2
for mode in server cold; do
  echo "Building each project $runs times from scratch ($mode)" >&2
  measure "$work/handwritten" handwritten "$mode"
  measure "$work/generated" generated "$mode"
done

generated_lines=$(find "$work/generated/obj/Release" -path '*Cached.Generators*' -name '*.g.cs' -exec cat {} + | wc -l)
{
  echo "| $methods cached methods | Hand-written | Generated | Ratio | Target |"
  echo "|---|---:|---:|---:|---|"
  awk -v l="$generated_lines" -v m="$methods" 'BEGIN { printf "| Generated lines per method | 0 | %.1f | | 12 or fewer |\n", l / m }'
  row 'Compiler (Csc task, s), compiler server' server.csc '1.5x or less'
  row 'Compiler (Csc task, s), new compiler process' cold.csc '1.5x or less'
  row 'Whole `dotnet build` CPU (s), new compiler process' cold.cpu ''
  for mode in server cold; do
    awk -v s="$(median < "$work/generated.$mode.gen")" -v m="$methods" -v mode="$mode" \
      'BEGIN { printf "| Generator time per method (ms), %s | | %.3f | | under 0.5 |\n", mode == "server" ? "compiler server" : "new compiler process", s * 1000 / m }'
  done
  echo
  echo "Medians of $runs builds from scratch of each project in each mode (the server's after one warm-up build):"
  echo "\`benchmarks/compile-cost.sh --methods $methods --runs $runs\`."
} | tee "$work/table.md"
[ -n "$out" ] && cp "$work/table.md" "$out"
if [ -n "$results" ]; then
  # Between the markers SuiteReport carries over: replaced in place, or added at the end.
  {
    echo '<!-- compile-cost:start -->'
    echo '## Compile cost (issue 14)'
    echo
    echo "What 1,000 \`[Cached]\` methods cost a build against the same methods written by hand as pass-throughs;"
    echo "measured on $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M') UTC."
    echo
    cat "$work/table.md"
    echo '<!-- compile-cost:end -->'
  } > "$work/section.md"
  touch "$results"
  awk -v section="$work/section.md" '
    /<!-- compile-cost:start -->/ { while ((getline line < section) > 0) print line; skip = 1; done = 1; next }
    /<!-- compile-cost:end -->/ { skip = 0; next }
    !skip { print }
    END { if (!done) { print ""; while ((getline line < section) > 0) print line } }
  ' "$results" > "$work/results.md"
  cp "$work/results.md" "$results"
fi
exit 0
