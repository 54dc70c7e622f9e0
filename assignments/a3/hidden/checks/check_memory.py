"""Hidden check: replay the student's memory plan against the reference lifetimes. A plan is
valid when every tensor has an aligned offset inside the arena and no two tensors whose
lifetimes overlap share a byte; a valid plan's arena must be within 1.1x of the reference's."""

import pytest

import checklib

MODELS = ["mlp_chain", "residual", "unet"]
ALIGNMENT = 64
SLACK = 1.1


def validate(case):
    """The plan's arena size, after checking that the plan is valid."""
    plan = checklib.load_facts(case)
    truth = checklib.expected_facts(case)
    lifetimes = {name: tuple(v) for name, v in truth["lifetimes"].items()}
    arena, offsets = plan.get("arena_bytes"), plan.get("offsets")
    assert isinstance(arena, int) and isinstance(offsets, dict), f"{case}: malformed plan"
    missing = sorted(set(lifetimes) - set(offsets))
    assert not missing, f"{case}: no offset for {missing[:5]}"
    for name, (size, first, last) in lifetimes.items():
        offset = offsets[name]
        assert isinstance(offset, int) and offset >= 0, f"{case}: bad offset for {name}"
        assert offset % ALIGNMENT == 0, f"{case}: {name} at {offset} is not {ALIGNMENT}-byte aligned"
        assert offset + size <= arena, f"{case}: {name} ends at {offset + size}, past the arena ({arena})"
    names = sorted(lifetimes)
    for i, a in enumerate(names):
        size_a, first_a, last_a = lifetimes[a]
        for b in names[i + 1:]:
            size_b, first_b, last_b = lifetimes[b]
            live_together = first_a <= last_b and first_b <= last_a
            share_bytes = offsets[a] < offsets[b] + size_b and offsets[b] < offsets[a] + size_a
            assert not (live_together and share_bytes), (
                f"{case}: {a} (nodes {first_a}..{last_a}) and {b} (nodes {first_b}..{last_b}) "
                f"are alive together and share bytes")
    return arena, truth["arena_bytes"]


@pytest.mark.parametrize("case", MODELS)
def test_plan_valid(case):
    validate(case)


@pytest.mark.parametrize("case", MODELS)
def test_plan_peak(case):
    arena, reference = validate(case)
    assert arena <= SLACK * reference, f"{case}: arena {arena} bytes > {SLACK} x reference {reference}"
