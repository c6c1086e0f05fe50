#!/bin/sh
# install.sh - make install into a temporary prefix: the installed binary
# runs a job from the installed jobs/, a CUDA build's installed binary finds
# its installed plug-in (lib/aisp/aisp-cuda.so), Lmod loads the module file
# (PATH, MANPATH, AISP_HOME), the man page renders without warnings and names
# every option of every command's --help; DESTDIR stages under another root;
# make uninstall leaves no file behind.
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
P=$T/prefix
# make as a user types it, not as a child of make test (its flags stay out)
# shellcheck disable=SC2317 # called through expect_exit
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory -C "$repo" "$@"; }
# The binary under test and, in a CUDA build (CUDA twins listed), its
# plug-in beside it (lib/aisp-cuda.so); a build without CUDA has none.
plugin=""
if "$AISP" bench list-targets 2>/dev/null | grep -q "^ch01:gemm  *cuda "; then
	plugin=$(dirname "$AISP")/lib/aisp-cuda.so
	check "the CUDA build's plug-in is there to install ($plugin)" test -s "$plugin"
fi

expect_exit 0 "make install PREFIX=$P" mk install PREFIX="$P" AISP_BIN="$AISP" AISP_PLUGIN="$plugin"
for f in bin/aisp share/man/man1/aisp.1 share/modulefiles/aisp/0.1.0 \
	share/aisp/jobs/ch01/job.yaml share/aisp/jobs/qual/job.yaml \
	share/aisp/slurm/aisp-run.sbatch share/aisp/slurm/submit; do
	check "installed $f" test -s "$P/$f"
done
check "slurm/submit is executable" test -x "$P/share/aisp/slurm/submit"
check "jobs/ch01 keeps its stored baseline" test -s "$P/share/aisp/jobs/ch01/expectations_h100_80gb_hbm3.json"
expect_exit 0 "installed aisp version" "$P/bin/aisp" version
expect_text "aisp 0.1.0" "aisp version names the version"
if [ -n "$plugin" ]; then
	check "installed lib/aisp/aisp-cuda.so" test -s "$P/lib/aisp/aisp-cuda.so"
	# A CUDA worker of the installed binary loads the installed plug-in: then
	# ready, or CUDA's own error on a machine without a GPU; never missing.
	"$P/bin/aisp" worker --backend cuda --device 0 3>"$T/res" </dev/null >/dev/null 2>&1
	check "the installed aisp finds its installed plug-in" grep -Eq "^ready|cudaSetDevice" "$T/res"
else
	check "a build without CUDA installs no plug-in" test ! -e "$P/lib/aisp/aisp-cuda.so"
fi

# The module file, loaded by Lmod as a cluster user would.
lmod=/usr/share/lmod/lmod/init/sh
if [ -r "$lmod" ]; then
	expect_exit 0 "module load aisp (Lmod)" sh -c ". $lmod && module use '$P/share/modulefiles' &&
		module load aisp && command -v aisp && echo \"AISP_HOME=\$AISP_HOME\" &&
		echo \"MANPATH=\$MANPATH\" &&
		aisp bench run --job \"\$AISP_HOME/jobs/ch01/job.yaml\" --iterations 2 --warmup 0 \
			--warmup-ms 1 --time-budget 0.01 --out '$T/run'"
	expect_text "$P/bin/aisp" "the module puts the installed aisp on PATH"
	expect_text "AISP_HOME=$P/share/aisp" "the module sets AISP_HOME"
	expect_text "MANPATH=$P/share/man" "the module puts the man page on MANPATH"
	expect_text "run: $T/run" "the installed binary runs the installed ch01 job (worker included)"
else
	no "Lmod is not installed ($lmod): make deps installs it"
fi

# The man page: no groff warnings, and every option of every --help in it.
check "man page renders without warnings" sh -c "groff -man -ww -z -Tutf8 '$P/share/man/man1/aisp.1' 2>'$T/groff' && [ ! -s '$T/groff' ]"
groff -man -Tutf8 -P-cbou -rLL=200n "$P/share/man/man1/aisp.1" >"$T/man.txt" 2>/dev/null
missing=""
for cmd in "bench run" "bench list-targets" gather compare report history; do
	# shellcheck disable=SC2086 # cmd is two words
	for o in $("$P/bin/aisp" $cmd --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$o" "$T/man.txt" || missing="$missing $cmd:$o"
	done
done
check "the man page names every option of every --help${missing:+ (missing:$missing)}" test -z "$missing"

expect_exit 0 "make uninstall PREFIX=$P" mk uninstall PREFIX="$P"
check "uninstall leaves no file" test -z "$(find "$P" ! -type d)"
check "uninstall removes aisp's directories" test ! -e "$P/share/aisp" -a ! -e "$P/share/modulefiles/aisp"

# DESTDIR: staged under another root, paths inside say the final prefix.
expect_exit 0 "make install DESTDIR" mk install PREFIX=/opt/aisp DESTDIR="$T/stage" AISP_BIN="$AISP" \
	AISP_PLUGIN="$plugin"
check "DESTDIR: files under the staging root" test -x "$T/stage/opt/aisp/bin/aisp"
check "DESTDIR: the module file names the final prefix" grep -q "^set prefix /opt/aisp$" "$T/stage/opt/aisp/share/modulefiles/aisp/0.1.0"
expect_exit 0 "make uninstall DESTDIR" mk uninstall PREFIX=/opt/aisp DESTDIR="$T/stage"
check "DESTDIR: uninstall leaves no file" test -z "$(find "$T/stage" ! -type d)"
finish
