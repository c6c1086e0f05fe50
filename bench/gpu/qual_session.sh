#!/bin/bash
# qual_session.sh - one device session for the qual chapter. Run on the GPU
# machine from the repository root once aisp is built there:
#   bash bench/gpu/qual_session.sh               (AISP=./aisp, OUT=/tmp/qual-session)
# It runs the qual job on every visible GPU of this node as one rank
#   $AISP bench run --job jobs/qual/job.yaml --update-expectations
# and writes into $OUT: session.log (everything), run/ (rank file, job),
# expectations_<hardware_key>.json (a copy of what --update-expectations
# wrote under jobs/qual/), messages.txt (each variant's check message: the
# datasheet peak it quotes, the PCIe link NVML reports, health facts) and
# qual_table.md: per target and variant the figure and its share of the
# datasheet peak (H100 SXM: 3.35 TB/s HBM3, 494.7 TF32 / 989.4 FP16-BF16 /
# 1978.9 FP8 dense TFLOP/s, PCIe Gen5 x16 ~64 GB/s per direction; H200:
# 4.8 TB/s). Never changes clocks, power or modes.
set -u
OUT=${OUT:-/tmp/qual-session}
AISP=${AISP:-./aisp}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/session.log") 2>&1
export PATH="$PATH:/usr/local/cuda/bin"
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda/extras/CUPTI/lib64:$PWD/.deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "=== env ($(date -u +%FT%TZ))"
git log --oneline -1 2>/dev/null
nvidia-smi --query-gpu=index,name,pcie.link.gen.current,pcie.link.width.current,clocks.max.sm,power.limit,ecc.mode.current --format=csv 2>&1
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
echo "gpu: ${gpu:-unknown} x ${ngpu:-0}"
[ -x "$AISP" ] || { echo "no aisp binary at $AISP (build it first, or set AISP)"; exit 2; }

echo "=== run"
rm -rf "$OUT/run"
"$AISP" bench run --job jobs/qual/job.yaml --update-expectations --out "$OUT/run" | tee "$OUT/aisp_stdout.txt"
rc=${PIPESTATUS[0]}
echo "aisp exit status: $rc"
cp jobs/qual/expectations_*.json "$OUT/" 2>/dev/null

echo "=== messages"
/usr/bin/python3 - "$OUT/run" >"$OUT/messages.txt" 2>&1 <<'PYEOF' || h5dump -a message "$OUT"/run/rank-00000.h5 >>"$OUT/messages.txt" 2>&1
import glob, sys, h5py
for path in sorted(glob.glob(sys.argv[1] + "/rank-*.h5")):
    with h5py.File(path, "r") as f:
        print(path, f.attrs["gpu_name"], f.attrs["hardware_key"])
        for inst in f["targets"]:
            for var in f["targets"][inst]:
                a = f["targets"][inst][var].attrs
                print(f"{inst}/{var}: {a['status']}: {a['message']}")
PYEOF
cat "$OUT/messages.txt"

echo "=== table"
# Datasheet peaks of this GPU (dense): HBM GB/s, TF32, FP16/BF16, FP8 TFLOP/s, PCIe GB/s.
case "$gpu" in
*H200*) hbm=4800 tf32=494.7 f16=989.4 f8=1978.9 pcie=64 model="H200 SXM" ;;
*"H100 PCIe"*) hbm=2000 tf32=378 f16=756 f8=1513 pcie=64 model="H100 PCIe" ;;
*H100*) hbm=3350 tf32=494.7 f16=989.4 f8=1978.9 pcie=64 model="H100 SXM" ;;
*) hbm=0 tf32=0 f16=0 f8=0 pcie=0 model="unknown (no peaks)" ;;
esac
awk -v hbm=$hbm -v tf32=$tf32 -v f16=$f16 -v f8=$f8 -v pcie=$pcie -v n="${ngpu:-1}" \
    -v model="$model" -v gpu="$gpu" '
function row(t, v, med, fig, unit, peak, share) {
	printf "| %s | %s | %s | %s %s | %s | %s |\n", t, v, med, fig, unit, peak, share
}
function pct(x, p) { return (p > 0 ? sprintf("%.1f%%", 100 * x / p) : "-") }
BEGIN {
	printf "# qual on %s (%d GPU%s), datasheet: %s\n\n", gpu, n, (n > 1 ? "s" : ""), model
	print "| target | variant | median ms | figure | datasheet peak | share of peak |"
	print "|---|---|---|---|---|---|"
}
/^qual:/ {
	t = $1; v = $2; med = $4
	if (NF >= 7) { thr = $6; st = $7 } else { thr = ""; st = $6 }
	sub(/\/s$/, "", thr); x = thr + 0
	if (st != "passed" || thr == "") { row(t, v, med, st, "", "-", "-"); next }
	if (t ~ /mem_bw/) row(t, v, med, sprintf("%.0f", x / 1e9), "GB/s", hbm " GB/s", pct(x / 1e9, hbm))
	else if (t ~ /gemm_peak/) {
		p = v ~ /tf32/ ? tf32 : v ~ /fp8/ ? f8 : f16
		row(t, v, med, sprintf("%.1f", x / 1e12), "TFLOP/s", p " TFLOP/s", pct(x / 1e12, p))
	} else if (t ~ /health/)
		row(t, v, med, sprintf("%.1f", x / 1e12), "TFLOP/s (BF16 load)", f16 " TFLOP/s", pct(x / 1e12, f16))
	else if (t ~ /launch/)
		row(t, v, med, sprintf("%.3g us/launch (%.3g launches/s)", 1e6 / x, x), "", "-", "-")
	else if (t ~ /pcie/) row(t, v, med, sprintf("%.1f", x / 1e9), "GB/s", pcie " GB/s", pct(x / 1e9, pcie))
	else if (t ~ /nccl/)
		row(t, v, med, sprintf("algbw %.1f GB/s, busbw %.1f", x / 1e9, x / 1e9 * 2 * (n - 1) / n),
		    "GB/s", "-", "-")
	else row(t, v, med, x, "/s", "-", "-")
}' "$OUT/aisp_stdout.txt" | tee "$OUT/qual_table.md"
exit "$rc"
