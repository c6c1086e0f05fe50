# lib.sh - shared helpers of the end-to-end tests (sourced, not run).
# Env: AISP (binary), AISP_TEST (the test binary: aisp plus the test-only
# targets of tests/targets/, test:fault and test:axpy), PY (python with
# h5py), TMPDIR. A script that runs test targets says AISP=$AISP_TEST.
AISP=${AISP:-$(pwd)/aisp}
AISP_TEST=${AISP_TEST:-$(pwd)/build/aisp-test}
PY=${PY:-/usr/bin/python3}
MPIRUN="mpirun --allow-run-as-root --oversubscribe"
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d "${TMPDIR:-/tmp}/aisp-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
# ok NAME: record a passed check.
ok() { echo "ok - $1"; }
# no NAME: record a failed check.
no() { echo "not ok - $1"; fails=$((fails + 1)); }
# check NAME CMD...: run CMD, pass when it exits 0.
check() { name=$1; shift; if "$@"; then ok "$name"; else no "$name"; fi; }
# expect_exit CODE NAME CMD...: pass when CMD exits with CODE.
expect_exit() {
	want=$1 name=$2; shift 2
	"$@" >"$T/out" 2>&1; got=$?
	if [ "$got" = "$want" ]; then ok "$name (exit $got)"; else no "$name (exit $got, want $want)"; sed 's/^/    /' "$T/out" | head -20; fi
}
# expect_text TEXT NAME: pass when the last command's output holds TEXT.
expect_text() {
	if grep -qF -- "$1" "$T/out"; then ok "$2"; else no "$2: no '$1' in output"; sed 's/^/    /' "$T/out" | head -20; fi
}
finish() { [ "$fails" = 0 ]; exit $?; }
