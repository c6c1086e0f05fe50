#!/usr/bin/python3
"""md_section.py - replace one "## Title" section of a markdown file (from its
heading to the next "## " heading) with the text of BODY, or append it when
the file has no such section; the rest of the file is kept byte for byte.
Several writers may share the file (other sections belong to other scripts):
the update holds an flock on /tmp/aisp-bench-results.lock and renames a new
file into place.

  md_section.py FILE "## Title" BODY
"""
import fcntl
import os
import sys


def replace_section(text, title, body):
    """text with the section named title replaced by title + body."""
    lines = text.splitlines(keepends=True)
    new = [title + "\n", "\n", body.rstrip("\n") + "\n", "\n"]
    start = next((i for i, l in enumerate(lines) if l.rstrip("\n") == title), None)
    if start is None:
        if lines and not text.endswith("\n\n"):
            lines.append("\n" if text.endswith("\n") else "\n\n")
        return "".join(lines + new)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "".join(lines[:start] + new + lines[end:])


def main():
    if len(sys.argv) != 4 or not sys.argv[2].startswith("## "):
        sys.exit("usage: md_section.py FILE '## Title' BODY")
    path, title, body_path = sys.argv[1:]
    with open(body_path) as f:
        body = f.read()
    with open("/tmp/aisp-bench-results.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = ""
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
        if not text:
            text = "# Benchmarks of aisp itself\n\nEach section: figures, command, machine, date.\n"
        with open(path + ".tmp", "w") as f:
            f.write(replace_section(text, title, body))
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
