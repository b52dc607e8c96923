#!/usr/bin/env bash
# Re-renders every picture in the docs with the current code (run from the repository root, with
# ../shared/images beside it and painterly installed). Times are printed by painterly itself.
set -euo pipefail
IMG=../shared/images
REPORTS=$(mktemp -d)
run() { echo "+ painterly $*" >&2; painterly "$@" --overwrite; }
# docs keep the report's contact sheet, graphs, table and metadata (index.html embeds every image: large)
keep() { mkdir -p "docs/$1"; cp "$REPORTS/$1"/{contact_sheet.png,loss.png,improvement.png,table.csv,metadata.json} "docs/$1/"; }

run --demo -o docs/demo.png
run $IMG/content/tubingen.jpg $IMG/style/starry_night.jpg -o docs/tubingen_starry_night_384.png --size 384 \
    --report "$REPORTS/report_tubingen_384" --save-every 10
keep report_tubingen_384
# the default preset on other pairs, and the style weight it was tuned with (β = 1, 10, 100)
run $IMG/content/golden_gate.jpg $IMG/style/the_scream.jpg -o docs/golden_gate_the_scream_256.png --size 256
run $IMG/content/sailboat.jpg $IMG/style/mosaic.jpg -o docs/sailboat_mosaic_256.png --size 256
for beta in 1 10 100; do
  run $IMG/content/chicago.jpg $IMG/style/woman_with_hat.jpg -o docs/chicago_woman_with_hat_beta$beta.png \
      --size 256 --style-weight $beta
done
# the paper's preset for 10 iterations: Tables II-III and figures 10-19
run $IMG/content/tubingen.jpg $IMG/style/starry_night.jpg -o docs/paper_preset.png --preset paper \
    --iterations 10 --save-every 1 --report "$REPORTS/report_paper_preset"
keep report_paper_preset
