#!/bin/bash
# check_text_decisions — "decide on values, never on text" (docs/design.md §9)
# as a check that fails: no code under proxy/ may search a string for a
# literal word to learn what happened.
#
#   scripts/check_text_decisions.sh [SOURCE_DIR]     (run by CTest as lint_text_decisions)
#
# Rule 1: a search (find, rfind, find_first_of, starts_with, ends_with,
#   contains) with a string literal on anything named like a reason, error,
#   message, note, text, summary, failure or verdict is always refused:
#   outcomes are enums (failure_kind, next_step, ...), their text is for the log.
# Rule 2: every other search with a string literal must be a parse of input
#   bytes or of a wire format and say so with a `// wire:` comment on its line.
# Exit 0 when clean, 1 with the offending lines.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
search='(\.|->)(find|rfind|find_first_of|starts_with|ends_with|contains)\("'
names='(reason|error|why|message|msg|note|text|summary|failure|verdict)[A-Za-z0-9_]*(\(\))?(\.|->)'
status=0
hits=$(grep -rnE --include='*.cpp' --include='*.hpp' "[A-Za-z0-9_]*${names}(find|rfind|find_first_of|starts_with|ends_with|contains)\\(\"" proxy/)
if [ -n "$hits" ]; then
    echo "rule 1: a reason or message searched for a word (decide on an enum instead):"
    echo "$hits"
    status=1
fi
unmarked=$(grep -rnE --include='*.cpp' --include='*.hpp' "$search" proxy/ | grep -v '// wire:')
if [ -n "$unmarked" ]; then
    echo "rule 2: a literal search that is not marked as a wire-format parse (// wire: ...):"
    echo "$unmarked"
    status=1
fi
[ $status -eq 0 ] && echo "no string-keyed decision under proxy/"
exit $status
