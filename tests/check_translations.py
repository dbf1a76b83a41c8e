#!/usr/bin/env python3
"""Fails when a "%n" string of the UI has no English singular and plural.

Runs lupdate over the UI's sources into a copy of the English translation, as the
update_translations target would, and lists every counted message whose forms are missing
or empty, or that the sources no longer hold.
"""
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def main(argv):
    if len(argv) != 4:
        print("usage: check_translations.py LUPDATE SOURCE_DIR TS_FILE", file=sys.stderr)
        return 2
    lupdate, sources, ts = argv[1], Path(argv[2]), Path(argv[3])
    with tempfile.TemporaryDirectory() as work:
        updated = Path(work) / ts.name
        shutil.copyfile(ts, updated)
        subprocess.run([lupdate, "-silent", "-pluralonly", "-locations", "none", str(sources),
                        "-ts", str(updated)], check=True)
        root = ElementTree.parse(updated).getroot()

    problems = []
    for context in root.iter("context"):
        name = context.findtext("name")
        for message in context.iter("message"):
            source = message.findtext("source")
            translation = message.find("translation")
            forms = [f.text or "" for f in translation.iter("numerusform")]
            kind = translation.get("type")
            if kind in ("obsolete", "vanished"):
                problems.append(f"{name}: \"{source}\" is no longer in the sources")
            elif kind == "unfinished" or len(forms) != 2 or not all(forms):
                problems.append(f"{name}: \"{source}\" needs its singular and plural")
            elif any("%n" not in form for form in forms):
                problems.append(f"{name}: \"{source}\" has a form without %n")
    for problem in problems:
        print(f"{ts}: {problem}", file=sys.stderr)
    if problems:
        print("run `cmake --build BUILD --target update_translations`, then write the forms",
              file=sys.stderr)
        return 1
    print(f"{ts}: every counted string has its singular and plural")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
