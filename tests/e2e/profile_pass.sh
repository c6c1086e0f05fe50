#!/bin/sh
# --profile minimal as a pass of its own, with a stand-in for Nsight Compute
# (tests/tools/fake_ncu.sh through AISP_NCU): profile attributes land on the
# timed variants, the timings (samples, medians, the table) are the timed
# pass's, and a variant that cannot be profiled (ncu error, worker killed,
# no kernels, ncu exit status) says why while the run goes on and exits 0.
. "$(dirname "$0")/lib.sh"
AISP_NCU=$(cd "$(dirname "$0")/../tools" && pwd)/fake_ncu.sh
export AISP_NCU
RUN="$AISP bench run --targets ch01:gemm --backend host --iterations 6 --warmup 1 --time-budget 0.2"

# check_profile DIR STATUSES: the rank file's profile_status per variant in
# order (comma separated), timed results intact, reasons for the failures.
check_profile() {
	"$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
run, want = sys.argv[1], sys.argv[2].split(",")
bad = []
with h5py.File(run + "/rank-00000.h5", "r") as f:
    if f.attrs["status"] != "complete":
        bad.append("rank file status " + f.attrs["status"])
    vs = ["baseline_gemm", "optimized_gemm_batched", "optimized_gemm_strided"]
    for v, w in zip(vs, want):
        a = f["targets/ch01:gemm/" + v].attrs
        s = f["targets/ch01:gemm/" + v + "/samples_ms"][:]
        if a["status"] != "ok" or len(s) < 6 or a["n_samples"] != len(s):
            bad.append(f"{v}: timed pass {a['status']} with {len(s)} samples")
        if a["median_ms"] != np.percentile(s, 50):
            bad.append(f"{v}: median_ms is not the timed samples' median")
        if a["profile_status"] != w:
            bad.append(f"{v}: profile_status {a['profile_status']}, want {w} ({a['profile_message']})")
        if w == "ok" and (abs(a["profile_mem_pct"] - 50) > 1e-9 or abs(a["profile_sm_pct"] - 50) > 1e-9
                          or a["profile_kernels"] != 2 or abs(a["profile_kernel_ms"] - 0.004) > 1e-12):
            bad.append(f"{v}: profile numbers {a['profile_mem_pct']} {a['profile_sm_pct']} "
                       f"{a['profile_kernels']} {a['profile_kernel_ms']}")
        if w not in ("ok", "none") and not a["profile_message"]:
            bad.append(f"{v}: {w} without a reason")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
}

# table_median DIR VARIANT: the table's median equals the rank file's.
table_median() {
	"$PY" - "$1" "$2" "$T/out" <<'PYEOF'
import sys, h5py
run, v, out = sys.argv[1:4]
with h5py.File(run + "/rank-00000.h5", "r") as f:
    med = f["targets/ch01:gemm/" + v].attrs["median_ms"]
row = [l.split() for l in open(out) if l.startswith("ch01:gemm ") and l.split()[1] == v][0]
sys.exit(0 if abs(float(row[3]) - med) <= 1e-4 * med else 1)
PYEOF
}

# shellcheck disable=SC2086
expect_exit 0 "profile pass, every variant profiled" $RUN --profile minimal --out "$T/ok"
expect_text "profile rank 0: ch01:gemm optimized_gemm_strided ... ok: 2 kernels" "a profile line per variant"
check "profile_* on every variant, timings from the timed pass" check_profile "$T/ok" ok,ok,ok
check "the table shows the timed median" table_median "$T/ok" optimized_gemm_batched
check "one report per variant kept" test -f "$T/ok/profile/rank-00000-item-002.ncu-rep"

# shellcheck disable=SC2086
FAKE_NCU_FAIL='*item-001' FAKE_NCU_EMPTY='*item-002' expect_exit 0 \
	"ncu fails on one variant, profiles nothing on another: the run goes on" \
	$RUN --profile minimal --out "$T/fail"
expect_text "optimized_gemm_batched ... failed" "the failure is printed"
check "failed and no_kernels recorded with reasons, timings intact" \
	check_profile "$T/fail" ok,failed,no_kernels
check "the failure names ncu's error" "$PY" -c "
import h5py, sys
a = h5py.File('$T/fail/rank-00000.h5', 'r')['targets/ch01:gemm/optimized_gemm_batched'].attrs
sys.exit(0 if 'Failed to profile' in a['profile_message'] else 1)"

# shellcheck disable=SC2086
FAKE_NCU_KILL='*item-000' FAKE_NCU_EXIT='*item-002' expect_exit 0 \
	"the profiled worker is killed; ncu exits non-zero after a report" \
	$RUN --profile minimal --out "$T/kill"
check "killed worker: failed; non-zero ncu exit: partial" check_profile "$T/kill" failed,ok,partial

# shellcheck disable=SC2086
AISP_NCU=/nonexistent/ncu expect_exit 2 "no ncu: refused before anything runs" \
	$RUN --profile minimal --out "$T/none"
expect_text "AISP_NCU" "the message names the setting"
check "nothing measured without ncu" test ! -f "$T/none/rank-00000.h5"

# shellcheck disable=SC2086
expect_exit 0 "without --profile: profile_status none" $RUN --out "$T/plain"
check "no profile pass ran" check_profile "$T/plain" none,none,none
finish
