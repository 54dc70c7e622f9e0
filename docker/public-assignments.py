#!/usr/bin/env python3
"""Copies the public part of each assignment for the student image.

    public-assignments.py SRC_DIR DEST_DIR

Kept: assignment.toml, handout/, and every file a public test (or the build step) uses.
Every other path the manifest names (hidden drivers, checkers, expected data) becomes an empty
file or folder, so the manifest still loads and `grader check` runs the public tests, while no
hidden test content is in the image. samples/, variants/ and solution/ are left out.
"""
import shutil
import sys
import tomllib
from pathlib import Path


def public_paths(manifest):
    """Paths (relative to the assignment folder) the public tests and the build read."""
    keep = set()
    tests = [t for t in manifest.get("tests", []) if t.get("visibility") == "public"]
    build = manifest.get("build")
    for entry in tests + ([build] if build else []):
        for key in ("files", "check_files"):
            keep.update(entry.get(key, []))
        for key in ("produce", "expected", "baseline"):
            if entry.get(key):
                keep.add(entry[key])
    return keep


def named_paths(manifest):
    """(path, is_folder) for every path any test names."""
    named = []
    for entry in manifest.get("tests", []) + ([manifest["build"]] if "build" in manifest else []):
        for key in ("files", "check_files"):
            named += [(p, False) for p in entry.get(key, [])]
        if entry.get("produce"):
            named.append((entry["produce"], False))
        for key in ("expected", "baseline"):
            if entry.get(key):
                named.append((entry[key], True))
    return named


def copy_assignment(src, dest):
    with open(src / "assignment.toml", "rb") as f:
        manifest = tomllib.load(f)
    dest.mkdir(parents=True)
    shutil.copy2(src / "assignment.toml", dest / "assignment.toml")
    if (src / "handout").is_dir():
        shutil.copytree(src / "handout", dest / "handout")
    keep = public_paths(manifest)
    for path, is_folder in named_paths(manifest):
        if ".." in Path(path).parts or Path(path).is_absolute():
            raise SystemExit(f"{src}/assignment.toml: '{path}' leaves the assignment folder")
        target = dest / path
        if target.exists():
            continue
        if path in keep:
            if (src / path).is_dir():
                shutil.copytree(src / path, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src / path, target)
        elif is_folder:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src_root, dest_root = Path(sys.argv[1]), Path(sys.argv[2])
    for src in sorted(p for p in src_root.iterdir() if (p / "assignment.toml").is_file()):
        copy_assignment(src, dest_root / src.name)
        print(f"public-assignments: {src.name}")


if __name__ == "__main__":
    main()
