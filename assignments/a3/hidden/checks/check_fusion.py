"""Hidden check: pointwise fusion keeps the outputs and forms the expected groups."""

import checklib

GROUPS = {"fused_group_sizes": "the sorted sizes of the fused groups"}


def test_chains_outputs():
    checklib.compare_graph_outputs("fuse_chains")


def test_chains_groups():
    checklib.compare_graph_facts("fuse_chains", ["fused_group_sizes"], GROUPS)


def test_trees_outputs():
    checklib.compare_graph_outputs("fuse_trees")


def test_trees_groups():
    checklib.compare_graph_facts("fuse_trees", ["fused_group_sizes"], GROUPS)
