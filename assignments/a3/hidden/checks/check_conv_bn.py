"""Hidden check: conv + batchnorm folding keeps the outputs and removes the right
BatchNorm calls."""

import checklib

BN = {"batchnorm_calls": "the number of BatchNorm calls left"}


def test_sequential_outputs():
    checklib.compare_graph_outputs("conv_bn_sequential")


def test_sequential_no_batchnorm_left():
    checklib.compare_graph_facts("conv_bn_sequential", ["batchnorm_calls"], BN)


def test_shared_conv_and_multi_user_outputs():
    checklib.compare_graph_outputs("conv_bn_tricky")


def test_multi_user_conv_keeps_its_batchnorm():
    checklib.compare_graph_facts("conv_bn_tricky", ["batchnorm_calls"], BN)
