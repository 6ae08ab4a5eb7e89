#!/usr/bin/env bash
# Runs every example pipeline through two zcrm binaries and compares what a user sees: for each
# pipeline `validate`, `plan`, `run`, `run` again and `status` (exit code, stdout with times
# normalised, the first lines of stderr), then every report and export file written (CSV files
# sorted and hashed). Each binary works in a fresh copy of pipelines/ and samples/ with its own
# embedded emulator. Prints nothing and exits 0 when both agree; otherwise the diff, exit 1.
#
#   scripts/compare-examples.sh OLD_ZCRM NEW_ZCRM
#
# Used to show that a refactor leaves exit codes, reports and call counts unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
old_bin="$(realpath "$1")"
new_bin="$(realpath "$2")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

norm() {
    sed -E 's/[0-9]+\.[0-9]+s/Xs/g; s/20[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+[^ ]*/TIME/g;
            s/day 20[0-9-]+/day D/; s/[0-9]+ (rows|records)\/s average/N \1\/s average/; s/  [0-9]{4}-[0-9]{2}-[0-9]{2}:/  DAY:/; s/turns at .*/turns at T/'
}

one() {
    local bin="$1" dir="$2"
    mkdir -p "$dir" && cp -r "$root/pipelines" "$root/samples" "$dir/" && cd "$dir"
    for p in validate-leads quickstart migration upsert-sync org-copy-export org-copy-import nightly-export; do
        for cmd in validate plan run run status; do
            set +e
            out=$(ZCRM_PROGRESS=off "$bin" "$cmd" "pipelines/$p.toml" 2>"$dir/.stderr")
            code=$?
            set -e
            echo "== $p $cmd exit=$code"
            echo "$out" | norm
            grep -v '^\s*$' "$dir/.stderr" | norm | head -5 || true
        done
    done
    echo "== files"
    { find out exports -type f 2>/dev/null || true; } | sort | while read -r f; do
        case "$f" in
            *.parquet) echo "$f (parquet: its rows are in the export lines above; the footer holds the export time)" ;;
            *) echo "$f $(norm < "$f" | sort | md5sum | cut -c1-12)" ;;
        esac
    done
}

(one "$old_bin" "$work/old") > "$work/old.txt"
(one "$new_bin" "$work/new") > "$work/new.txt"
diff "$work/old.txt" "$work/new.txt"
