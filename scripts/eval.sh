#!/usr/bin/env bash
# scripts/eval.sh - `make eval`: accuracy on the public intent sets.
#
#   BUILD=build CSBOT=build/csbot bash scripts/eval.sh
#
# For each set, build a KB from the build split with `csbot import`, tune
# thresholds on the tuning split only, and report on the test split with
# `csbot eval --json`:
#   banking77   import train.tsv                       -> eval test.tsv
#   clinc150    import train.tsv, calibrate on val.tsv and the train
#               split's out-of-scope rows               -> eval test.tsv
#               (`csbot calibrate --oos-recall R` picks the answer threshold
#               and ambiguity margin that answer the most val rows right
#               while declining a share R of the _oos rows of each dev file:
#               val.tsv's 100 and the 100 of data_full.json's "oos_train",
#               which train.tsv leaves out and this script extracts with node.
#               The two samples disagree: at val's threshold only 0.67 of
#               oos_train is declined, so each must reach R on its own. The
#               target is 0.80 on test; 100 rows measure a recall to about
#               +-0.04 (one standard error), and R is 0.80 + 0.04 = 0.84.
#               Without node: val.tsv alone. Test is never looked at.)
#   cic         import train.tsv (zh)                   -> eval test.tsv
#               (not calibrated: dev.tsv has no _oos rows and top-1 accuracy
#               does not depend on the thresholds)
#   hint3 bots  import <bot>_train.tsv                  -> eval <bot>_test.tsv
#               (report only, default thresholds: hint3 has no tuning split)
# With the sentence encoder (ENCODER, default build/encoder/use-lite-en.bin,
# which `make eval` makes) every step runs with --encoder: the same for all
# sets, and only English messages and examples use it. BANKING77 is then
# also evaluated without it (banking77_no_encoder), for comparison.
# Writes $BUILD/eval/results.json keyed banking77, clinc150, cic,
# hint3_<bot>; each value is csbot eval's JSON object (clinc150 also has
# calibrated_precision and answer_threshold).
#
# Environment: CSBOT_DATA (default ../shared/data), EVAL_OOS_RECALL, ENCODER
# (empty: none).
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

OUT=$BUILD/eval
# CLINC150's target is OOS recall >= 0.80 on test; val's 100 _oos rows
# measure it to about one standard error, sqrt(0.8 * 0.2 / 100) = 0.04
OOS_RECALL=${EVAL_OOS_RECALL:-0.84}

if [ "$HAVE_DATA" = 0 ]; then
    echo "eval: $DATA is absent: nothing to evaluate (the public data sets live there)"
    exit 0
fi
need_csbot
mkdir -p "$OUT/kb"
machine_info
ENCODER=${ENCODER-build/encoder/use-lite-en.bin}
ENC_ARGS=()
if [ -n "$ENCODER" ] && [ -f "$ENCODER" ]; then
    ENC_ARGS=(--encoder "$ENCODER")
    echo "sentence encoder: $ENCODER"
else
    echo "sentence encoder: none (make encoder makes it)"
fi

# jnum KEY FILE: a number from csbot eval's JSON output ("" if absent/null)
jnum() {
    awk -v k="\"$1\"" '{
        for (i = 1; i <= NF; i++) if ($i == k ":") { v = $(i + 1); sub(/,$/, "", v); print v; exit } }' \
        FS='[ \t]+' "$2" | sed 's/^null$//'
}

run_eval() { # run_eval KB TSV OUT.json [extra csbot eval arguments]
    if ! "$CSBOT" eval "$1" "$2" --json "${@:4}" ${ENC_ARGS[@]+"${ENC_ARGS[@]}"} \
            > "$3.tmp" 2> "$3.log"; then
        cat "$3.log" >&2
        die "csbot eval $1 $2 failed"
    fi
    mv "$3.tmp" "$3"
}

# ---- BANKING77 ---------------------------------------------------------------
echo "== banking77: import train.tsv, eval test.tsv"
import_kb "$DATA/banking77/train.tsv" en "$OUT/kb/banking77.json" banking77
run_eval "$OUT/kb/banking77.json" "$DATA/banking77/test.tsv" "$OUT/banking77.json"
extra=()
if [ ${#ENC_ARGS[@]} -gt 0 ]; then
    echo "== banking77 without the encoder: eval test.tsv"
    saved=("${ENC_ARGS[@]}")
    ENC_ARGS=()
    run_eval "$OUT/kb/banking77.json" "$DATA/banking77/test.tsv" \
        "$OUT/banking77_no_encoder.json"
    ENC_ARGS=("${saved[@]}")
    extra=(banking77_no_encoder)
fi

# ---- CLINC150 ----------------------------------------------------------------
# the train split's out-of-scope rows, as TSV (train.tsv has none)
dev=("$DATA/clinc150/val.tsv")
if command -v node > /dev/null && [ -f "$DATA/clinc150/data_full.json" ]; then
    node -e '
        const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        for (const [text] of d.oos_train)
            console.log("_oos\t" + text.replace(/\s+/g, " ").trim());' \
        "$DATA/clinc150/data_full.json" > "$OUT/clinc150.oos_train.tsv"
    dev+=("$OUT/clinc150.oos_train.tsv")
    dev_names="val.tsv + oos_train ($(wc -l < "$OUT/clinc150.oos_train.tsv") rows)"
else
    echo "   node or data_full.json missing: calibrating on val.tsv alone"
    dev_names=val.tsv
fi
echo "== clinc150: import train.tsv, calibrate on $dev_names (OOS recall $OOS_RECALL each)"
import_kb "$DATA/clinc150/train.tsv" en "$OUT/kb/clinc150.json" clinc150
clinc_kb=$OUT/kb/clinc150.calibrated.json
best_t=""
best_m=""
if "$CSBOT" calibrate "$OUT/kb/clinc150.json" "${dev[@]}" \
        --oos-recall "$OOS_RECALL" ${ENC_ARGS[@]+"${ENC_ARGS[@]}"} \
        --write "$clinc_kb" > "$OUT/calibrate.txt" 2>&1; then
    best_t=$(awk '/^answer_threshold/ { print $2 }' "$OUT/calibrate.txt")
    best_m=$(awk '/^ambiguity_margin/ { print $2 }' "$OUT/calibrate.txt")
    echo "   chosen: answer threshold $best_t, ambiguity margin $best_m"
    sed -n 's/^at these thresholds: /   offline on the dev files: /p; s/^  \([^ ]*\/\)\{0,1\}\([^/ ]*\.tsv\): /     \2: /p' "$OUT/calibrate.txt"
    run_eval "$clinc_kb" "$DATA/clinc150/val.tsv" "$OUT/clinc150.val.json"
    echo "   replies on val: in-scope accuracy $(jnum in_scope_accuracy "$OUT/clinc150.val.json")," \
        "OOS recall $(jnum oos_recall "$OUT/clinc150.val.json")"
else
    cat "$OUT/calibrate.txt" >&2
    echo "   calibration failed: default thresholds"
    clinc_kb=$OUT/kb/clinc150.json
fi
echo "== clinc150: eval test.tsv"
run_eval "$clinc_kb" "$DATA/clinc150/test.tsv" "$OUT/clinc150.json"

# ---- DataCLUE CIC ------------------------------------------------------------
echo "== cic: import train.tsv, eval test.tsv"
import_kb "$DATA/dataclue_cic/train.tsv" zh "$OUT/kb/cic.json" dataclue_cic
run_eval "$OUT/kb/cic.json" "$DATA/dataclue_cic/test.tsv" "$OUT/cic.json"

# ---- HINT3 -------------------------------------------------------------------
bots=()
for f in "$DATA"/hint3/*_train.tsv; do
    [ -f "$f" ] || continue
    b=$(basename "$f" _train.tsv)
    [ -f "$DATA/hint3/${b}_test.tsv" ] || continue
    echo "== hint3 $b: import ${b}_train.tsv, eval ${b}_test.tsv"
    import_kb "$f" en "$OUT/kb/hint3_$b.json" "hint3_$b"
    run_eval "$OUT/kb/hint3_$b.json" "$DATA/hint3/${b}_test.tsv" "$OUT/hint3_$b.json"
    bots+=("hint3_$b")
done

# ---- results.json ------------------------------------------------------------
sets=(banking77 "${extra[@]}" clinc150 cic "${bots[@]}")
{
    echo "{"
    n=0
    for s in "${sets[@]}"; do
        [ $n -gt 0 ] && echo ","
        n=$((n + 1))
        printf '"%s": ' "$s"
        if [ "$s" = clinc150 ] && [ -n "$best_t" ]; then
            # add the calibration to the object: drop its closing brace
            sed '$ d' "$OUT/$s.json" | sed '$ s/$/,/'
            printf '\t"calibrated_oos_recall":\t%s,\n\t"answer_threshold":\t%s,\n\t"ambiguity_margin":\t%s\n}' "$OOS_RECALL" "$best_t" "$best_m"
        else
            printf '%s' "$(cat "$OUT/$s.json")"
        fi
    done
    echo
    echo "}"
} > "$OUT/results.json"

# ---- table -------------------------------------------------------------------
fmt='%-20s %6s %5s %7s %8s %8s %8s %8s %8s %8s %8s\n'
echo
# shellcheck disable=SC2059
printf "$fmt" set n_in n_oos top1 in_scope coverage oos_rec precis macro_f1 load_ms us/query
for s in "${sets[@]}"; do
    f=$OUT/$s.json
    # shellcheck disable=SC2059
    printf "$fmt" "$s" "$(jnum n_in_scope "$f")" "$(jnum n_oos "$f")" \
        "$(jnum top1_accuracy "$f")" "$(jnum in_scope_accuracy "$f")" \
        "$(jnum coverage "$f")" "$(jnum oos_recall "$f")" \
        "$(jnum answered_precision "$f")" "$(jnum macro_f1 "$f")" \
        "$(jnum load_ms "$f")" "$(jnum us_per_query "$f")"
done
if [ -n "$best_t" ]; then
    echo "(clinc150: calibrated on $dev_names for OOS recall $OOS_RECALL: answer threshold $best_t," \
        "ambiguity margin $best_m)"
fi

nmet=0
nmiss=0
target() { # target LABEL VALUE OP LIMIT
    local ok st
    ok=$(awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN {
        if (v == "") print 0; else if (op == "<") print (v < l); else print (v >= l) }')
    if [ "$ok" = 1 ]; then st=met; nmet=$((nmet + 1)); else st="NOT MET"; nmiss=$((nmiss + 1)); fi
    printf '  %-30s %10s %-2s %-8s %s\n' "$1" "${2:-n/a}" "$3" "$4" "$st"
}
echo
echo "targets:"
target "banking77 top1" "$(jnum top1_accuracy "$OUT/banking77.json")" ">=" 0.92
target "clinc150 in_scope_accuracy" "$(jnum in_scope_accuracy "$OUT/clinc150.json")" ">=" 0.91
target "clinc150 oos_recall" "$(jnum oos_recall "$OUT/clinc150.json")" ">=" 0.80
target "cic top1" "$(jnum top1_accuracy "$OUT/cic.json")" ">=" 0.83
target "banking77 load (ms)" "$(jnum load_ms "$OUT/banking77.json")" "<" 2000
echo "$nmet met, $nmiss not met; wrote $OUT/results.json"
