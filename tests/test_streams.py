"""Streams drawn for one comparison never share a seed for any seed the app offers (0–99)."""
import pytest

from explorer.common.streams import STREAMS
from explorer.ui.controls import T_MAX_UI

SEEDS = range(100)


def seeds_of(name: str, steps=(0,)) -> set[int]:
    return {STREAMS[name].seed(s, t) for s in SEEDS for t in steps}


@pytest.mark.parametrize("a,b", [("target", "second_sample"), ("target", "reference_set"),
                                 ("second_sample", "reference_set"), ("quality_fresh", "quality_other"),
                                 ("forward_chain", "reverse_start")])
def test_paired_streams_never_meet(a, b):
    assert not seeds_of(a) & seeds_of(b)


def test_every_closed_form_jump_has_its_own_seed_and_misses_the_chain():
    jumps = [STREAMS["closed_form_jump"].seed(s, t) for s in SEEDS for t in range(T_MAX_UI + 1)]
    assert len(set(jumps)) == len(jumps)
    assert not set(jumps) & seeds_of("forward_chain")
