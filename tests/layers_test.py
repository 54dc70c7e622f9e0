#!/usr/bin/python3
"""The layers of grader/README.md, checked: no #include goes up a layer, and no include cycle
between files. Usage: tests/layers_test.py SOURCE_DIR"""
import os
import re
import sys

# What each folder may include besides itself (grader/README.md's picture).
ALLOWED = {
    "common": set(),
    "sandbox": {"common"},
    "reports": {"common"},
    "grader/box": {"common", "sandbox", "reports"},
    "grader/engine": {"grader/box", "common", "sandbox", "reports"},
    "grader/course": {"grader/engine", "grader/box", "common", "sandbox", "reports"},
    "grader/cli": {"grader/course", "grader/engine", "grader/box", "common", "sandbox", "reports"},
}
INCLUDE = re.compile(r'^#include "((?:common|sandbox|reports|grader/\w+)/[\w.]+)"', re.M)


def folder_of(path):
    return os.path.dirname(path)


def includes(root):
    """{file: [included file, ...]} over the layered folders, paths relative to root."""
    graph = {}
    for folder in ALLOWED:
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if name.endswith((".cc", ".h")):
                path = f"{folder}/{name}"
                with open(os.path.join(root, path)) as f:
                    graph[path] = INCLUDE.findall(f.read())
    return graph


def upward(graph):
    return [f"{src} includes {dst}" for src, dsts in graph.items() for dst in dsts
            if folder_of(dst) != folder_of(src) and folder_of(dst) not in ALLOWED[folder_of(src)]]


def cycle(graph):
    """One include cycle as a list of files, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in graph:
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def main():
    graph = includes(sys.argv[1])
    # The checks themselves, on a graph made to fail them.
    assert upward({"grader/box/a.h": ["grader/engine/b.h"]}), "an upward include went unseen"
    assert cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert cycle({"a": ["b"], "b": []}) is None
    problems = upward(graph)
    found = cycle(graph)
    if found:
        problems.append("include cycle: " + " -> ".join(found))
    missing = [dst for dsts in graph.values() for dst in dsts
               if not os.path.isfile(os.path.join(sys.argv[1], dst))]
    problems += [f"includes a file that does not exist: {m}" for m in missing]
    for p in problems:
        print("layers_test:", p)
    if problems:
        sys.exit(1)
    print(f"layers_test: {len(graph)} files, "
          f"{sum(len(d) for d in graph.values())} includes, none upward, no cycle")


main()
