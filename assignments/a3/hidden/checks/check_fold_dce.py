"""Hidden check: constant folding and dead-code elimination keep the outputs and leave the
expected graph."""

import checklib


def test_fold_keeps_outputs():
    checklib.compare_graph_outputs("fold")


def test_fold_leaves_no_constant_computation():
    checklib.compare_graph_facts("fold", ["constant_call_nodes", "call_nodes"], {
        "constant_call_nodes": "the number of call nodes computing only from constants",
        "call_nodes": "the number of call nodes after folding",
    })


def test_dead_code_removed():
    checklib.compare_graph_outputs("dead")
    checklib.compare_graph_facts("dead", ["call_nodes"], {"call_nodes": "the number of call nodes left"})


def test_inplace_call_kept():
    checklib.compare_graph_outputs("inplace")
    checklib.compare_graph_facts("inplace", ["inplace_calls", "call_nodes"], {
        "inplace_calls": "the number of in-place calls left",
        "call_nodes": "the number of call nodes left",
    })
