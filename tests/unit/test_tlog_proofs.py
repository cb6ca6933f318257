"""The log is a transparency log auditors check with standard tools (issue 11; ARCHITECTURE.md
§1): its tree hash, inclusion and consistency proofs reproduce the reference implementation's
test vectors (transparency-dev/merkle), its checkpoint signatures golang.org/x/mod's signed
notes, and proofs verify with an implementation of RFC 9162 written here, apart from the
product's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai_shared.checkpoint import CheckpointError, Signer, open_note, signers_of, verify
from gongkai_shared.merkle import (
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent.parent / "fixtures" / "tlog_vectors.json").read_text())
MERKLE = VECTORS["merkle"]
LEAVES = [bytes.fromhex(x) for x in MERKLE["leaves_hex"]]
ROOTS = [bytes.fromhex(x) for x in MERKLE["roots_hex"]]


# --- an independent verifier: RFC 9162 §2.1.3.2 and §2.1.4.2, nothing from the product --------


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def independent_inclusion(index: int, size: int, leaf_data: bytes, path: list[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, _h(b"\x00", leaf_data)
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _h(b"\x01", p, r)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = _h(b"\x01", r, p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def independent_consistency(first: int, second: int, root1: bytes, root2: bytes, path: list[bytes]) -> bool:
    if first == second:
        return not path and root1 == root2
    if first == 0 or first > second:
        return first == 0 and not path
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [root1, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _h(b"\x01", c, fr), _h(b"\x01", c, sr)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            sr = _h(b"\x01", sr, c)
        fn //= 2
        sn //= 2
    return sn == 0 and fr == root1 and sr == root2


# --- the reference vectors ---------------------------------------------------------------------


def test_tree_hashes_are_the_reference_roots_for_sizes_1_to_8() -> None:
    assert merkle_root([]) == MERKLE["empty_root_hex"]
    for n in range(1, 9):
        assert merkle_root(LEAVES[:n]) == MERKLE["roots_hex"][n - 1], n


@pytest.mark.parametrize("case", MERKLE["inclusion"], ids=lambda c: f"leaf{c['leaf']}-of-{c['size']}")
def test_inclusion_proofs_are_the_reference_proofs(case: dict) -> None:
    index, size = case["leaf"] - 1, case["size"]  # the reference numbers leaves from 1
    path, root = inclusion_proof(LEAVES, index, size)
    assert [h.hex() for h in path] == case["proof_hex"]
    assert root == ROOTS[size - 1]
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), path, root)
    assert independent_inclusion(index, size, LEAVES[index], path, root)


@pytest.mark.parametrize("case", MERKLE["consistency"], ids=lambda c: f"{c['size1']}-to-{c['size2']}")
def test_consistency_proofs_are_the_reference_proofs(case: dict) -> None:
    first, second = case["size1"], case["size2"]
    path, root1, root2 = consistency_proof(LEAVES, first, second)
    assert [h.hex() for h in path] == case["proof_hex"]
    assert (root1, root2) == (ROOTS[first - 1], ROOTS[second - 1])
    verify_consistency(first, second, root1, root2, path)
    assert independent_consistency(first, second, root1, root2, path)


@pytest.mark.parametrize("case", MERKLE["inclusion"][1:], ids=lambda c: f"leaf{c['leaf']}-of-{c['size']}")
def test_the_verifier_refuses_corrupted_inclusion_proofs(case: dict) -> None:
    """The reference's corruptions: wrong index or size, wrong leaf or root, a proof hash
    changed, added or removed: each refused."""
    index, size = case["leaf"] - 1, case["size"]
    path = [bytes.fromhex(h) for h in case["proof_hex"]]
    leaf, root = leaf_hash(LEAVES[index]), ROOTS[size - 1]
    bad = [
        (index - 1, size, leaf, path, root),
        (index + 1, size, leaf, path, root),
        (index ^ 2, size, leaf, path, root),
        (index, size * 2, leaf, path, root),
        (index, size // 2, leaf, path, root),
        (index, size, leaf_hash(b"WrongLeaf"), path, root),
        (index, size, leaf, path, bytes.fromhex(MERKLE["empty_root_hex"])),
        (index, size, leaf, [*path, root], root),
        (index, size, leaf, [root, *path], root),
        (index, size, leaf, path[:-1], root),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        bad.append((index, size, leaf, flipped, root))
    for args in bad:
        if args[0] < 0:
            continue
        with pytest.raises(ProofError):
            verify_inclusion(*args)


@pytest.mark.parametrize("case", MERKLE["consistency"][1:], ids=lambda c: f"{c['size1']}-to-{c['size2']}")
def test_the_verifier_refuses_corrupted_consistency_proofs(case: dict) -> None:
    first, second = case["size1"], case["size2"]
    path = [bytes.fromhex(h) for h in case["proof_hex"]]
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    bad = [
        (first - 1, second, r1, r2, path),
        (first + 1, second, r1, r2, path),
        (first ^ 2, second, r1, r2, path),
        (first, second * 2, r1, r2, path),
        (first, second // 2, r1, r2, path),
        (first, second, leaf_hash(b"WrongRoot"), r2, path),
        (first, second, r1, leaf_hash(b"WrongRoot"), path),
        (first, second, r2, r1, path),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*path, r1]),
        (first, second, r1, r2, [r2, *path]),
        (first, second, r1, r2, [path[0], *path]),
        (first, second, r1, r2, path[:-1]),
    ]
    for i in range(len(path)):
        flipped = list(path)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        bad.append((first, second, r1, r2, flipped))
    for f, s, a, b, p in bad:
        if f < 1 or (f, s) == (first, second) and p == path and (a, b) == (r1, r2):
            continue
        if s < 1 or f > s:
            continue
        with pytest.raises(ProofError):
            verify_consistency(f, s, a, b, p)


# --- every size, against the independent verifier -------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_proof_the_product_computes_verifies_independently(size: int, data) -> None:
    """Any leaf of any tree, any older size: the product's proofs verify with the RFC 9162
    algorithms written in this test, and the product's verifier agrees."""
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    index = data.draw(st.integers(0, size - 1))
    path, root = inclusion_proof(iter(leaves), index, size)
    assert root.hex() == merkle_root(leaves)
    assert independent_inclusion(index, size, leaves[index], path, root)
    assert root_from_inclusion(index, size, leaf_hash(leaves[index]), path) == root
    first = data.draw(st.integers(1, size))
    proof, root1, root2 = consistency_proof(iter(leaves), first, size)
    assert root1.hex() == merkle_root(leaves[:first]) and root2 == root
    assert independent_consistency(first, size, root1, root2, proof)
    verify_consistency(first, size, root1, root2, proof)
    if proof:  # a different older tree is not consistent with this one
        forged = merkle_root([b"forged", *leaves[1:first]])
        assert not independent_consistency(first, size, bytes.fromhex(forged), root2, proof)
        with pytest.raises(ProofError):
            verify_consistency(first, size, bytes.fromhex(forged), root2, proof)


def test_a_proof_needs_the_whole_tree_it_names() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(iter([b"a", b"b"]), 0, 3)
    with pytest.raises(ProofError):
        inclusion_proof(iter([b"a"]), 1, 1)


def test_the_streamed_tree_keeps_one_hash_per_level() -> None:
    tree = MerkleTree()
    for i in range(1000):
        tree.add(i.to_bytes(2, "big"))
    assert len(tree._subtrees) == bin(1000).count("1")


# --- C2SP signed notes: golang.org/x/mod/sumdb/note's vectors --------------------------------------

NOTE = VECTORS["signed_note"]


def test_a_signed_note_is_the_reference_signature_and_key_hash() -> None:
    """Key name + 4-byte key hash SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)[:4], Ed25519 over
    the text: the same bytes as the reference implementation's."""
    signer = Signer.from_skey(NOTE["skey"])
    assert signer.vkey() == NOTE["vkey"]
    assert signer.sign_note(NOTE["text"]) == NOTE["signed"]
    assert open_note(NOTE["signed"], NOTE["vkey"]) == NOTE["text"]
    both = NOTE["signed"] + NOTE["other_signature_line"]
    assert open_note(both, NOTE["other_vkey"]) == NOTE["text"]  # a second signer's line
    assert signers_of(both) == ["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"]
    tampered = NOTE["signed"].replace("cryptography", "cryptographY")
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(tampered, NOTE["vkey"])


def test_a_checkpoint_is_a_c2sp_tlog_checkpoint() -> None:
    signer = Signer.generate("gongkai/FOI")
    note = signer.sign("gongkai/FOI", 8, MERKLE["roots_hex"][7])
    lines = note.split("\n")
    assert lines[:4] == ["gongkai/FOI", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", ""]
    assert lines[4].startswith("\u2014 gongkai/FOI ") and lines[5] == ""
    checkpoint = verify(note, signer.vkey())
    assert (checkpoint.size, checkpoint.root) == (8, MERKLE["roots_hex"][7])
    with pytest.raises(CheckpointError):
        verify(note, Signer.generate("gongkai/FOI").vkey())


# --- review's tile cache: the same proofs from tile hashes and the few tiles a boundary cuts ------


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 1400), st.data())
def test_proofs_from_the_tile_cache_are_the_proofs_from_every_leaf(size: int, data) -> None:
    import asyncio

    from gongkai_shared.tlog import TileCache, consistency, inclusion

    leaves = [i.to_bytes(4, "big") for i in range(size + 300)]  # the log goes on past the tree
    reads: list[tuple[int, int]] = []

    async def read(first: int, last: int):  # noqa: ANN202 — the log's bytes, seq first..last
        reads.append((first, last))
        for seq in range(first, last + 1):
            yield leaves[seq - 1]

    async def run() -> None:
        seq = data.draw(st.integers(1, size))
        first = data.draw(st.integers(1, size))
        plain = await inclusion(read, seq, size, leaves[seq - 1])
        tiles = TileCache()
        await tiles.extend(read, size)
        assert len(tiles.tiles) == size // 256
        reads.clear()
        assert await inclusion(read, seq, size, leaves[seq - 1], tiles) == plain
        assert sum(last - first + 1 for first, last in reads) <= 3 * 256  # a few tiles, not the log
        assert await consistency(read, first, size, tiles) == await consistency(read, first, size)

    asyncio.run(run())
