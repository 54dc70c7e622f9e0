"""Hidden check: a 5000-node chain must work (no recursion limit); a 48-node ladder with
2**24 paths must give the right value and gradient, which only a backward that
differentiates each node once reaches within the CPU limit (the sandbox's, not a count)."""

import checklib


def test_each_node_differentiated_once():
    checklib.compare_case("ladder")


def test_deep_chain():
    checklib.compare_case("deep_chain")
