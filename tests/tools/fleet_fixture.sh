# fleet_fixture.sh - synthetic fleets for the analysis e2e tests (sourced
# after tests/e2e/lib.sh; uses $PY and $T).
# make_fleet DIR: two runs of 4 GPUs each (8 GPUs on nodes n01..n04); GPU of
# rank 2 in run B (node n04) is 30% slower. Sets SLOW_GPU to its UUID.
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
make_fleet() {
	"$PY" "$TOOLS/make_rank_files.py" --out "$1/runA" --ranks 4 --gpus-per-node 2 \
		--node-prefix n --first-node 1 --run-id runA --seed 1 || return 1
	"$PY" "$TOOLS/make_rank_files.py" --out "$1/runB" --ranks 4 --gpus-per-node 2 \
		--node-prefix n --first-node 3 --run-id runB --seed 2 --slow 2:1.3 \
		--git-commit fedcba9876543210fedcba9876543210fedcba98 || return 1
	SLOW_GPU=$("$PY" -c 'import h5py,sys; print(h5py.File(sys.argv[1]).attrs["gpu_uuid"])' \
		"$1/runB/rank-00002.h5")
}
