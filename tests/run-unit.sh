#!/bin/sh
# run-unit.sh TEST_BIN... - run the cmocka unit tests; exit 1 if any failed.
rc=0
for t in "$@"; do
	echo "== $t"
	"$t" || rc=1
done
exit $rc
