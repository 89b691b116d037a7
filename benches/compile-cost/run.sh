#!/usr/bin/env bash
# What annotations cost at compile time: a generated crate of 500 functions (half of them
# async, all returning `Result`) built once per annotation, against the same crate without
# annotations. Prints each variant's median build time over RUNS builds of that crate alone
# (its dependencies already built) and the seconds it adds to the unannotated build.
#
#   benches/compile-cost/run.sh            # debug builds, 3 runs each
#   RUNS=5 PROFILE=release benches/compile-cost/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
runs="${RUNS:-3}"
profile="${PROFILE:-dev}"
functions=500
work="$root/target/compile-cost"
rm -rf "$work"
mkdir -p "$work"

# variant name, then the attribute lines put on every function
variants=(
  "none|"
  "otel_span|#[otel::span]"
  "otel_metric|#[otel::metric]"
  "otel_span_and_metric|#[otel::span] #[otel::metric]"
  "tracing_instrument_err|#[tracing::instrument(err)]"
  "fastrace_trace|#[fastrace::trace]"
)

members=()
for variant in "${variants[@]}"; do
  name="${variant%%|*}"
  attribute="${variant#*|}"
  members+=("\"$name\"")
  mkdir -p "$work/$name/src"
  cat > "$work/$name/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
otel = { package = "otel-compile", path = "$root/runtime" }
tracing = "0.1"
fastrace = { version = "0.7", features = ["enable"] }
TOML
  {
    echo "//! Generated: $functions functions, half async, annotated with: ${attribute:-nothing}."
    echo "#![allow(clippy::all, unused)]"
    for ((n = 0; n < functions / 2; n++)); do
      echo "$attribute"
      echo "pub fn sync_$n(x: u64) -> Result<u64, std::io::Error> { if x == $n { Err(std::io::Error::other(\"no\")) } else { Ok(x.wrapping_mul($n)) } }"
      echo "$attribute"
      echo "pub async fn async_$n(x: u64) -> Result<u64, std::io::Error> { if x == $n { Err(std::io::Error::other(\"no\")) } else { Ok(x.wrapping_add($n)) } }"
    done
  } > "$work/$name/src/lib.rs"
done
members_list=$(IFS=,; echo "${members[*]}")
cat > "$work/Cargo.toml" <<TOML
[workspace]
members = [$members_list]
resolver = "3"
TOML
# The versions the project is tested with.
cp "$root/Cargo.lock" "$work/Cargo.lock"

build() {
  (cd "$work" && cargo build --quiet --profile "$profile" --offline "$@" 2>/dev/null) ||
    (cd "$work" && cargo build --quiet --profile "$profile" "$@")
}

echo "building the dependencies once..."
build --workspace

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A seconds
for variant in "${variants[@]}"; do
  name="${variant%%|*}"
  times=()
  for ((run = 0; run < runs; run++)); do
    touch "$work/$name/src/lib.rs"
    start=$(date +%s.%N)
    build -p "$name"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  seconds[$name]=$(printf '%s\n' "${times[@]}" | median)
done

printf '%-26s %10s %12s\n' "variant ($functions fns)" "median s" "added s"
for variant in "${variants[@]}"; do
  name="${variant%%|*}"
  added=$(echo "${seconds[$name]} - ${seconds[none]}" | bc)
  printf '%-26s %10.2f %12.2f\n' "$name" "${seconds[$name]}" "$added"
done
