#!/usr/bin/env bash
# Re-renders every picture in the docs with the current code (run from the repository root, with
# ../shared/images beside it and painterly installed). Times are printed by painterly itself.
# The paper-preset pictures at the end are made with --border zero, the paper's own network.
set -euo pipefail
IMG=../shared/images
REPORTS=$(mktemp -d)
run() { echo "+ painterly $*" >&2; painterly "$@" --overwrite; }
# docs keep the report's contact sheet, graphs, table and metadata (index.html embeds every image: large)
keep() { mkdir -p "docs/$1"; cp "$REPORTS/$1"/{contact_sheet.png,loss.png,improvement.png,table.csv,metadata.json} "docs/$1/"; }
C=$IMG/content/tubingen.jpg; S=$IMG/style/starry_night.jpg

run $C $S -o docs/tubingen_starry_night_384.png --size 384 --report "$REPORTS/report_tubingen_384" --save-every 10
keep report_tubingen_384
run --demo -o docs/demo.png

# the README's picture: one photo in four paintings from the shelf, with the default
GRID=$(mktemp -d); mkdir "$GRID/photo" "$GRID/paintings"; cp $C "$GRID/photo/"
for p in starry_night great_wave the_scream composition_vii; do cp src/painterly/data/paintings/$p.jpg "$GRID/paintings/"; done
run gallery "$GRID/photo" "$GRID/paintings" -o docs/readme_grid.jpg --size 384 --cell 256
run styles $IMG/content/golden_gate.jpg -o docs/styles_sheet.jpg   # the shelf: docs/PAINTINGS.md

# the default beside the default before it (--preset relative) and jcjohnson's published outputs (docs/QUALITY.md)
python -m bench.pairs run --preset relative --out "$REPORTS/ref_old" --pairs reference --size 512
python -m bench.pairs run --preset default --out "$REPORTS/ref_new" --pairs reference --size 512
python -m bench.pairs reference "$REPORTS/ref_old" "$REPORTS/ref_new" --sheet docs/quality/reference_sheet.jpg
python -m bench.pairs run --preset relative --out "$REPORTS/old512" --pairs held_out --size 512
python -m bench.pairs run --preset default --out "$REPORTS/new512" --pairs held_out --size 512
python -m bench.pairs compare "$REPORTS/old512" "$REPORTS/new512" --sheet docs/quality/held_out_512.jpg
# the other sheets of docs/QUALITY.md (style losses, steps at 1024 and 2048 px, the six pairs at 1024 px, Brushstrokes)
# are made by bench.pairs, bench.large and painterly commands that the page gives beside each sheet

# quality controls: Tübingen × Starry Night at 256 px with the defaults, each beside the plain run
mkdir -p docs/controls
run $C $S -o docs/controls/plain.png --size 256
run $C $S -o docs/controls/preserve_luminance.png --size 256 --preserve-color luminance
run $C $S -o docs/controls/preserve_histogram.png --size 256 --preserve-color histogram
run $C $S -o docs/controls/border_zero.png --size 256 --border zero
run $C $IMG/style/the_scream.jpg -o docs/controls/the_scream.png --size 256
run $C $S $IMG/style/the_scream.jpg -o docs/controls/blend_starry_scream.png --size 256 --style-weights 0.5 0.5
run $C $S -o docs/controls/style_scale_0.5.png --size 256 --style-scale 0.5
run $C $S -o docs/controls/style_scale_2.png --size 256 --style-scale 2
run $C $S -o docs/controls/pooling_avg.png --size 256 --pooling avg
run $C $S -o docs/controls/init_photo_0.5.png --size 256 --init-photo 0.5
run $C $S -o docs/controls/classic.png --size 256 --preset classic

# the style weight β = 1, 10 (the default), 100
for beta in 1e3 1e4 1e5; do
  run $IMG/content/chicago.jpg $IMG/style/woman_with_hat.jpg -o docs/chicago_woman_with_hat_beta$beta.png \
      --size 256 --style-weight $beta
done

# multi-scale (the default): 256 -> 512 -> 1024, the w2 loss's 10 steps at 1024 (docs/QUALITY.md)
run $C $S -o docs/controls/multiscale_1024.jpg --size 1024 --seed 0 --report "$REPORTS/multiscale_1024" --save-every 0
python -c "from PIL import Image; Image.open('docs/controls/multiscale_1024.jpg').crop((300, 0, 812, 512)).save('docs/quality/default_1024_crop.png')"
cp "$REPORTS/multiscale_1024/metadata.json" docs/controls/multiscale_1024.json

# every content × style pair of ../shared/images on one sheet, with the fast method (seconds)
run gallery $IMG/content $IMG/style -o docs/gallery.png --size 256 --method fast

# 256 -> 512 -> 1024 -> 2048, the default (10 w2 steps at 1024 and at 2048)
run $C $S -o docs/controls/multiscale_2048.jpg --size 2048 --seed 0 --report "$REPORTS/multiscale_2048" --save-every 0
cp "$REPORTS/multiscale_2048/metadata.json" docs/controls/multiscale_2048.json
python -c "from PIL import Image; Image.open('docs/controls/multiscale_2048.jpg').crop((1000, 300, 1768, 876)).save('docs/controls/multiscale_2048_crop.png')"
python -c "from PIL import Image; Image.open('docs/controls/multiscale_2048.jpg').crop((1100, 250, 1612, 762)).save('docs/quality/default_2048_crop.png')"
# the Gram loss above 512 px (the rule before w2), the same crops
for side in 1024 2048; do
  run $C $S -o "$REPORTS/gram_$side.png" --size $side --seed 0 --style-loss gram
done
python -c "from PIL import Image; Image.open('$REPORTS/gram_1024.png').crop((300, 0, 812, 512)).save('docs/quality/gram_1024_crop.png')"
python -c "from PIL import Image; Image.open('$REPORTS/gram_2048.png').crop((1100, 250, 1612, 762)).save('docs/quality/gram_2048_crop.png')"

# the web page before, during and after a job at 390 and 1280 px (docs/web/; headless Chromium)
python docs/web_screenshot.py

# the paper's preset for 10 iterations: Tables II-III and figures 10-19
run $C $S -o docs/paper_preset.png --preset paper --iterations 10 --save-every 1 --report "$REPORTS/report_paper_preset"
keep report_paper_preset

# 16 MP in bounded memory (docs/PERFORMANCE.md): 256 -> ... -> 4096 px with Adam, tiled in 1024 px tiles at 2048 and 4096
BIG=$(mktemp -d)
run $IMG/content/sailboat.jpg $S -o "$BIG/sailboat_starry_4096.png" --model vgg16-hed --size 4096 --multiscale on \
    --min-size 256 --optimizer adam --iterations 100 --fine-iterations 8 --tile 1024 --seed 0 --init content --preset relative \
    --report "$REPORTS/tiled_4096" --save-every 0
cp "$REPORTS/tiled_4096/metadata.json" docs/tiled_4096.json
python - "$BIG/sailboat_starry_4096.png" <<'PY'
import sys
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
image = Image.open(sys.argv[1]).convert("RGB")
image.resize((768, 768), Image.Resampling.LANCZOS).save("docs/tiled_4096_preview.png")
image.crop((2133, 533, 2901, 1301)).save("docs/tiled_4096_crop.png")
PY

# painterly video (README, Video): box.mp4's first 6 s along the flow, its report's contact sheet, and vtest.avi's modes
VIDEOS=../shared/videos
run video $VIDEOS/box.mp4 src/painterly/data/demo_style.jpg -o docs/video_box_starry_night.mp4 --size 384 --duration 6 \
    --report "$REPORTS/video_box" --report-every 16
python -c "from PIL import Image; Image.open('$REPORTS/video_box/contact_sheet.png').convert('RGB').save('docs/video_box_starry_night_sheet.jpg', quality=82)"
python -m bench.video --modes-sheet docs/video_vtest_modes.jpg
