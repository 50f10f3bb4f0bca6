#!/usr/bin/env bash
# Write the shape tables of several recurrent layers into one Markdown docs page.
#
#   bash examples/docs_tables.sh [PAGE]        default PAGE: examples/out/shapes.md
#
# Run from the repository root it uses that checkout's code; elsewhere, the installed
# torchshape. Every table comes from torchshape itself, checked by a forward pass,
# and ends with the command that reproduces it. The page is replaced whole, or left
# as it was.
set -euo pipefail

page=${1:-examples/out/shapes.md}
if [[ -f torchshape/__main__.py ]]; then  # in a checkout: its own code
    torchshape=("${PYTHON:-python3}" -m torchshape)
else
    torchshape=(torchshape)
fi

configs=(
    "--kind lstm --layers 2 --bidir"
    "--kind gru --batch-first"
    "--kind lstm --hidden-size 64 --proj-size 16"
    "--kind rnn --nonlinearity relu --unbatched"
    "--kind lstm --layers 8 --bidir --input-size 4096 --hidden-size 4096 --seq-len 100000 --batch 64 --device meta"
)

mkdir -p "$(dirname "$page")"
work=$(mktemp -d)
partial=$(mktemp "$(dirname "$page")/.shapes.XXXXXX")
trap 'rm -rf "$work" "$partial"' EXIT

{
    echo "# Recurrent layer shapes"
    echo
    echo "Each table below was written by torchshape and checked by a real forward pass"
    echo "(on meta, at small probe sizes); its last line is the command that reproduces it."
    for i in "${!configs[@]}"; do
        # Word splitting is wanted: each entry is a list of flags.
        # shellcheck disable=SC2086
        "${torchshape[@]}" rnn ${configs[$i]} --output "$work/$i.md"
        echo
        echo "## \`torchshape rnn ${configs[$i]}\`"
        echo
        cat "$work/$i.md"
    done
} > "$partial"
chmod 644 "$partial"
mv "$partial" "$page"
echo "wrote $page"
