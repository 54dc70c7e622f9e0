"""Hidden check: a ladder whose node count is small but whose path count is 2**14 must have
each node differentiated exactly once; a 5000-node chain must work (no recursion limit)."""

import checklib


def test_each_node_differentiated_once():
    # expected: max_calls == 1, nodes_differentiated == 28, plus the value and gradient
    checklib.compare_case("ladder")


def test_deep_chain():
    checklib.compare_case("deep_chain")
