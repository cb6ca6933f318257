"""The auditor's verification, one record at a time: the Merkle tree hash is RFC 6962's, and a
log with very many problems is reported without holding them all."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from gongkai_cli.verification import MAX_PROBLEMS, Record, Verifier
from gongkai_shared.merkle import MerkleTree


def rfc6962(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) as RFC 6962 §2.1 defines it, recursively (the reference)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962(leaves[:k]) + rfc6962(leaves[k:])).digest()


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_the_streamed_merkle_root_is_rfc_6962s_at_every_size(leaves: list[bytes]) -> None:
    tree = MerkleTree()
    assert tree.root() == rfc6962([]).hex()
    for i, leaf in enumerate(leaves, 1):
        tree.add(leaf)
        assert tree.root() == rfc6962(leaves[:i]).hex()
    assert len(tree._subtrees) == bin(len(leaves)).count("1")  # O(log n): one per set bit


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40), st.data())
def test_a_signed_checkpoint_is_checked_against_the_root_at_its_size(leaves: list[bytes], data) -> None:
    """The first ``size`` records must have the signed root; fewer records means removal."""
    size = data.draw(st.integers(0, len(leaves) + 2))
    records = [Record(i, f"foi.review.c.x{i}", {}, d) for i, d in enumerate(leaves, 1)]
    signed = rfc6962(leaves[:size]).hex()
    verifier = Verifier(signed=(size, signed))
    for r in records:
        verifier.add(r)
    messages = [p.message for p in verifier.finish().problems]
    assert any("events were removed" in m for m in messages) == (size > len(leaves))
    assert not any("rewritten" in m for m in messages)
    if size <= len(leaves):
        other = Verifier(signed=(size, rfc6962([b"forged-leaf", *leaves][:size]).hex()))
        for r in records:
            other.add(r)
        assert any("rewritten" in p.message for p in other.finish().problems) == (size > 0)


def test_problems_beyond_the_limit_are_counted_not_kept() -> None:
    verifier = Verifier()
    for seq in range(1, MAX_PROBLEMS + 6):
        verifier.add(Record(seq, "foi.review.c.x", {}, b"not an event"))
    report = verifier.finish()
    assert len(report.problems) == MAX_PROBLEMS and report.omitted == 5
    assert report.problem_count == MAX_PROBLEMS + 5 and not report.ok
