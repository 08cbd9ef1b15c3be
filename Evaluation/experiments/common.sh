# Shared by the experiment scripts: `parse_arguments NAME DEFAULT_STEPS "$@"` sets out, steps,
# seeds, sim_flags and bin; `screen_for SEED` makes (once) and prints the screen of a seed.
parse_arguments() {
  local name=$1 default_steps=$2
  shift 2
  out=${1:?usage: $name OUT [STEPS] [SEEDS] [SIMULATE FLAGS...]}
  steps=${2:-$default_steps}
  seeds=${3:-1 2 3}
  shift $(( $# < 3 ? $# : 3 ))
  sim_flags=("$@")
  [ ${#sim_flags[@]} -gt 0 ] || sim_flags=(--phenotype-strength 2)
  bin=${BIN:-.build/release/grape}
}

screen_for() {
  local dir="$out/seed-$1"
  mkdir -p "$dir"
  [ -f "$dir/screen.h5" ] || "$bin" simulate --out "$dir/screen.h5" --seed "$1" "${sim_flags[@]}" >&2
  echo "$dir/screen.h5"
}
