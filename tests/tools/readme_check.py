#!/usr/bin/env python3
"""Run README.md's code blocks, so that the README cannot drift from the tool.

usage: readme_check.py README AISP REPO WORKDIR

Every code block is fenced and says its kind:
  ```sh    run in order, each block as one `sh -e` script, in WORKDIR (where
           ./aisp is AISP and jobs/ is REPO's), with a clean Open MPI
           environment: what a user pastes, as this user (root, 2 cores here).
           A block of `make` lines only is dry-run (make -n) in REPO: CI runs
           make run and make test themselves, and make test cannot run itself.
  ```text  command synopses: every `aisp ...` command must be in `aisp --help`
           and each of its --options in that command's --help; a
           `slurm/submit SUB` line's SUB and options in `slurm/submit --help`.
An indented or untagged code block fails: it would drift unseen.
Prints one ok / not ok line per block; exit 1 when any failed.
"""
import os
import re
import subprocess
import sys

FENCE = re.compile(r"^```(\S*)\s*$")


def blocks(path):
    """[(line, kind, text)] of the fenced blocks; kind None for an indented one."""
    out, cur, prev_blank = [], None, True
    with open(path) as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if cur is not None:
            if line.startswith("```"):
                out.append(cur)
                cur = None
            else:
                cur[2].append(line)
        elif m:
            cur = (n, m.group(1) or "", [])
        elif prev_blank and line.startswith("    ") and line.strip():
            out.append((n, None, [line]))
        prev_blank = not line.strip()
    if cur is not None:
        out.append((cur[0], "unclosed", cur[2]))
    return [(n, k, "\n".join(t)) for n, k, t in out]


def run_sh(text, aisp, repo, work):
    """Run one sh block; (ok, what, output tail)."""
    cmds = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OMPI_", "PMIX_", "MAKE", "MFLAGS"))}
    if all(c.startswith("make ") for c in cmds):  # dry run: the goals exist
        for c in cmds:
            argv = c.split("#")[0].split()
            r = subprocess.run(argv[:1] + ["-n"] + argv[1:], cwd=repo, env=env,
                               capture_output=True, text=True)
            if r.returncode != 0:
                return False, " ".join(argv) + " -n", r.stdout[-1500:] + r.stderr[-1500:]
        return True, "make -n: " + "; ".join(c.split("#")[0].strip() for c in cmds), ""
    r = subprocess.run(["sh", "-e", "-x", "-c", text], cwd=work, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    first = cmds[0][:70]
    return r.returncode == 0, f"{first} ... (exit {r.returncode})", r.stdout[-3000:]


def tool_help(tool, words):
    r = subprocess.run([tool] + words + ["--help"], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


# A synopsis line starts a command of aisp or of slurm/submit; an indented
# line without one continues the command above; any other line (squeue ...)
# is another tool's, not checked.
AISP_CMD = re.compile(r"(?:^|\s|/)aisp(?![\w.-])((?:\s+[a-z][a-z-]*)*)")
SUBMIT_CMD = re.compile(r"^\s*slurm/submit(?![\w-])((?:\s+[a-z][a-z-]*)?)")


def synopsis_commands(text):
    """[(tool, words, options)] of a synopsis block."""
    found, cur = [], None
    for line in text.splitlines():
        m, tool = AISP_CMD.search(line), "aisp"
        if not m:
            m, tool = SUBMIT_CMD.search(line), "slurm/submit"
        if m:
            cur = (tool, m.group(1).split(), [])
            found.append(cur)
            rest = line[m.end():]
        elif cur is not None and line[:1].isspace():
            rest = line
        else:
            cur = None
            continue
        cur[2].extend(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest.split(" #")[0]))
    return found


def check_text(text, aisp, repo):
    """Each aisp command of a synopsis exists, with the options it shows; a
    slurm/submit line's subcommand and options are in submit --help."""
    problems, top = [], tool_help(aisp, [])[1]
    submit = os.path.join(repo, "slurm", "submit")
    for tool, words, opts in synopsis_commands(text):
        name = " ".join([tool] + words)
        if tool == "slurm/submit":
            own = tool_help(submit, [])[1]
            usage = " ".join(ln for ln in own.splitlines() if "slurm/submit " in ln)
            if words and not re.search(r"slurm/submit [a-z|]*\b%s\b" % words[0], usage):
                problems.append(f"'{name}' is not in slurm/submit --help")
        elif words and name not in top:
            problems.append(f"'{name}' is not in aisp --help")
            continue
        else:
            own = tool_help(aisp, words)[1] if words else top
        for opt in opts:
            if opt not in own:
                problems.append(f"{name}: {opt} is not in its --help")
    return problems


def main():
    readme, aisp, repo, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    for name, target in (("aisp", aisp), ("jobs", os.path.join(repo, "jobs"))):
        if not os.path.lexists(os.path.join(work, name)):
            os.symlink(target, os.path.join(work, name))
    fails = 0
    for n, kind, text in blocks(readme):
        where = f"README.md:{n}"
        if kind == "sh":
            ok, what, tail = run_sh(text, aisp, repo, work)
            print(f"{'ok' if ok else 'not ok'} - {where}: {what}", flush=True)
            if not ok:
                print("\n".join("    " + ln for ln in tail.splitlines()[-40:]))
        elif kind == "text":
            problems = check_text(text, aisp, repo)
            ok = not problems
            print(f"{'ok' if ok else 'not ok'} - {where}: synopsis matches --help"
                  + "".join(f"\n    {p}" for p in problems))
        else:
            ok = False
            what = "indented code block" if kind is None else f"code block of kind '{kind}'"
            print(f"not ok - {where}: {what}: fence it as ```sh (run) or ```text (synopsis)")
        fails += not ok
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
