#!/bin/sh
# run-all.sh's skip rules, on stand-ins: a cmocka binary that skips one test
# and an end-to-end script that exits 77 are counted and named in the last
# line; with CI=true either one alone fails the run, naming it; without CI
# the run passes and still names them.
. "$(dirname "$0")/lib.sh"
cat >"$T/unit_skips" <<'SH'
#!/bin/sh
echo "[ RUN      ] test_needs_gpu"
echo "[  SKIPPED ] test_needs_gpu"
echo "[==========] 1 test(s) run."
echo "[  PASSED  ] 0 test(s)."
echo "[  SKIPPED ] 1 test(s), listed below:"
echo "[  SKIPPED ] test_needs_gpu"
SH
cat >"$T/unit_ok" <<'SH'
#!/bin/sh
echo "[==========] 1 test(s) run."
echo "[  PASSED  ] 1 test(s)."
SH
printf '#!/bin/sh\necho "skip: nothing here"\nexit 77\n' >"$T/e2e_skips.sh"
printf '#!/bin/sh\nexit 0\n' >"$T/e2e_ok.sh"
chmod +x "$T/unit_skips" "$T/unit_ok"
# all BIN SCRIPT [ENV...]: run-all over one unit binary and one script.
all() {
	bin=$1 script=$2
	shift 2
	env "$@" E2E="$script" LEAVE_OUT=tests/slurm/test_slurm.sh sh tests/run-all.sh build "$bin"
}
expect_exit 1 "CI=true: a skipped unit test fails the run" all "$T/unit_skips" "$T/e2e_ok.sh" CI=true
expect_text "CI: a skipped test fails CI: unit_skips:test_needs_gpu" "... naming it"
expect_exit 1 "CI=true: a skipped end-to-end script fails the run" all "$T/unit_ok" "$T/e2e_skips.sh" CI=true
expect_text "e2e_skips.sh" "... naming it"
expect_exit 0 "without CI a skip does not fail the run" all "$T/unit_skips" "$T/e2e_skips.sh" CI=
expect_text "0 passed, 0 failed, 2 skipped: unit_skips:test_needs_gpu" "... and the last line counts and names both"
expect_exit 0 "CI=true with nothing skipped passes" all "$T/unit_ok" "$T/e2e_ok.sh" CI=true
expect_text "2 passed, 0 failed, 0 skipped" "... and says so"
finish
