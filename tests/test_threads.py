"""The server's script threads set torch's thread count without tripping over a torch another session is importing."""
import sys
import types

import torch

from explorer.ui.threads import limit_torch_threads


def test_a_loaded_torch_gets_the_thread_count(monkeypatch):
    before = torch.get_num_threads()
    try:
        limit_torch_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_torch_still_being_imported_is_left_alone(monkeypatch):
    """What sys.modules holds while another thread imports torch: the module object, its spec marked initialising,
    none of its functions yet. Reading get_num_threads from it was an AttributeError in a tab (bench.load failover)."""
    partial = types.ModuleType("torch")
    partial.__spec__ = types.SimpleNamespace(_initializing=True)
    monkeypatch.setitem(sys.modules, "torch", partial)
    limit_torch_threads(1)  # no AttributeError
    half = types.ModuleType("torch")
    half.get_num_threads = lambda: 2  # defined, set_num_threads not yet
    monkeypatch.setitem(sys.modules, "torch", half)
    limit_torch_threads(1)
    monkeypatch.delitem(sys.modules, "torch")
    limit_torch_threads(1)  # not loaded at all
