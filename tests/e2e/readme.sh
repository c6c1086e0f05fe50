#!/bin/sh
# readme.sh - README.md's code blocks, run as written (tests/tools/readme_check.py):
# the sh blocks in a scratch directory, the make lines as dry runs, the
# synopses against --help. Several minutes on 2 cores: the fleet example runs
# the qual job twice on 4 ranks.
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
check "README.md's code blocks run as written" \
	"$PY" "$repo/tests/tools/readme_check.py" "$repo/README.md" "$AISP" "$repo" "$T/work"
finish
