#!/usr/bin/env bash
# Fails when a source file imports a project module that its target may not import (the module
# graph of README.md "Modules"). Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
  [GrapeSupport]=""
  [TensorCore]="GrapeSupport CBLAS"
  [NeuralNet]="GrapeSupport TensorCore"
  [OPSData]="GrapeSupport CHDF5 CTIFF CZlib"
  [Simulation]="GrapeSupport OPSData"
  [Training]="GrapeSupport TensorCore NeuralNet OPSData CMPI"
  [ABRA]="GrapeSupport TensorCore NeuralNet OPSData Training"
  [GRAPE]="GrapeSupport TensorCore NeuralNet OPSData Training ABRA"
  [Evaluation]="GrapeSupport OPSData CBLAS"
  [grape]="GrapeSupport TensorCore NeuralNet OPSData Simulation Training ABRA GRAPE Evaluation"
  [grape-fuzz]="NeuralNet OPSData"
)
project=" ${!allowed[*]} CBLAS CHDF5 CTIFF CZlib CMPI "
status=0
for target in "${!allowed[@]}"; do
  [ -d "Sources/$target" ] || { echo "module graph: Sources/$target is missing" >&2; status=1; continue; }
  while IFS=: read -r file _ line; do
    module=$(sed -E 's/^(@testable )?import ([A-Za-z0-9_]+).*/\2/' <<<"$line")
    [[ "$project" == *" $module "* ]] || continue
    [[ " ${allowed[$target]} " == *" $module "* ]] && continue
    echo "module graph: $file imports $module, which $target may not import (allowed: ${allowed[$target]:-nothing})" >&2
    status=1
  done < <(grep -rnE '^(@testable )?import [A-Za-z0-9_]+' "Sources/$target" --include='*.swift' || true)
done
for dir in Sources/*/; do
  name=$(basename "$dir")
  [[ -n "${allowed[$name]+x}" || " CBLAS CHDF5 CTIFF CZlib CMPI " == *" $name "* ]] || { echo "module graph: Sources/$name has no row in scripts/check-module-graph.sh" >&2; status=1; }
done
[ $status -eq 0 ] && echo "module graph: every import follows the table"
exit $status
