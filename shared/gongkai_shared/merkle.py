"""The log's Merkle tree (RFC 6962 §2.1 / RFC 9162 §2.1): tree hash, proofs and their verification.

The leaves are the events **exactly as stored** (the bytes the stream holds, whose SHA-256 the
next event of the case carries as ``prevhash``), in stream order: leaf ``i`` is the event at
sequence ``i + 1``. Hashes:

    leaf  = SHA-256(0x00 ‖ event bytes)        node = SHA-256(0x01 ‖ left ‖ right)

This is the one Merkle implementation of the product: the auditor's verifier, export files,
checkpoints and the proofs served by review and by ``gongkai audit proof`` all use it.

**Proofs without the tree in memory.** RFC 6962 defines both proofs recursively; every hash a
proof carries is the tree hash of a *range* of leaves, and those ranges are disjoint. So a
proof is computed in two steps: :func:`inclusion_ranges` / :func:`consistency_ranges` name the
ranges (pure arithmetic on the sizes), then one pass over the leaves (:class:`RangeHasher`)
folds each leaf into the one range it belongs to. The pass keeps one compact range (a hash per
level, O(log n)) per range and for the root: memory O(log² n), time O(n) hashes. Fed the hashes
of whole tiles (aligned perfect subtrees of :data:`TILE` leaves, C2SP tlog-tiles' idea) instead
of their leaves wherever no range boundary falls inside a tile, the pass costs O(n / TILE)
hashes plus the leaves of the few tiles a boundary cuts (tlog.TileCache). The proofs
are then checked exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 say (:func:`verify_inclusion`,
:func:`verify_consistency`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
TILE = 256  # leaves per tile (height 8, as C2SP tlog-tiles)

Range = tuple[int, int]  # leaves [lo, hi)


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """The Merkle tree hash of RFC 6962 §2.1, fed one leaf at a time (a "compact range").

    It keeps the roots of the perfect subtrees that make up the leaves so far (one per set bit
    of the size, largest first); the tree hash folds them from the right."""

    __slots__ = ("size", "_subtrees")

    def __init__(self) -> None:
        self.size = 0
        self._subtrees: list[tuple[int, bytes]] = []  # (leaves, root), sizes strictly decreasing

    def add(self, data: bytes) -> None:
        self.add_hash(leaf_hash(data))

    def add_hash(self, digest: bytes) -> None:
        """Append a leaf whose leaf hash is ``digest``."""
        size = 1
        while self._subtrees and self._subtrees[-1][0] == size:
            _, left = self._subtrees.pop()
            size, digest = size * 2, node_hash(left, digest)
        self._subtrees.append((size, digest))
        self.size += 1

    def add_subtree(self, digest: bytes, count: int) -> None:
        """Append ``count`` leaves (a power of two, the size a multiple of it) whose perfect
        subtree hash is ``digest``: a tile's hash instead of its leaves."""
        assert count & (count - 1) == 0 and self.size % count == 0, (count, self.size)
        size = count
        while self._subtrees and self._subtrees[-1][0] == size:
            _, left = self._subtrees.pop()
            size, digest = size * 2, node_hash(left, digest)
        self._subtrees.append((size, digest))
        self.size += count

    def root_bytes(self) -> bytes:
        if not self._subtrees:
            return EMPTY_ROOT
        digest = self._subtrees[-1][1]
        for _, left in reversed(self._subtrees[:-1]):
            digest = node_hash(left, digest)
        return digest

    def root(self) -> str:
        return self.root_bytes().hex()


def merkle_root(leaves: Iterable[bytes]) -> str:
    """MTH of RFC 6962 §2.1 over the events' bytes (hex)."""
    tree = MerkleTree()
    for data in leaves:
        tree.add(data)
    return tree.root()


# --- which ranges a proof carries (RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF) --------------------


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose tree hashes make the audit path of leaf ``index`` in a tree of ``size``,
    in the order of the proof (from the leaf up)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    out: list[Range] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m = lo + k, m - k
    return out[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose tree hashes make the consistency proof from ``first`` to ``second``
    leaves (empty when first is 0 or equals second), in the order of the proof."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    out: list[Range] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        out.append((lo, hi))
    return out[::-1]


class RangeHasher:
    """Tree hashes of disjoint ranges of leaves, and of the first ``size`` leaves, in one pass."""

    def __init__(self, ranges: Sequence[Range], size: int, also: Sequence[int] = ()) -> None:
        self.size = size
        self._order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
        self._ranges = list(ranges)
        self._trees = [MerkleTree() for _ in ranges]
        self._whole = MerkleTree()
        self._prefix = {n: b"" for n in also}  # roots of the first n leaves, for n in ``also``
        self._cursor = 0
        self._boundaries = {b for r in ranges for b in r} | set(also)
        if self._prefix.get(0) == b"":
            self._prefix[0] = EMPTY_ROOT

    @property
    def done(self) -> bool:
        return self._whole.size >= self.size

    def add(self, data: bytes) -> None:
        self.add_hash(leaf_hash(data))

    def add_hash(self, digest: bytes) -> None:
        i = self._whole.size
        if i >= self.size:
            raise ProofError(f"more than {self.size} leaves")
        self._whole.add_hash(digest)
        if self._whole.size in self._prefix:
            self._prefix[self._whole.size] = self._whole.root_bytes()
        j = self._range_at(i)
        if j is not None:
            self._trees[j].add_hash(digest)

    def add_subtree(self, digest: bytes, count: int) -> bool:
        """Take the next ``count`` leaves as one perfect subtree hash (a tile), unless a range
        or prefix boundary falls inside them: then nothing is taken (False) and the caller feeds
        those leaves one by one."""
        start = self._whole.size
        end = start + count
        if end > self.size or any(start < b < end for b in self._boundaries):
            return False
        self._whole.add_subtree(digest, count)
        if end in self._prefix:
            self._prefix[end] = self._whole.root_bytes()
        j = self._range_at(start)
        if j is not None:
            self._trees[j].add_subtree(digest, count)
        return True

    def _range_at(self, i: int) -> int | None:
        while self._cursor < len(self._order) and self._ranges[self._order[self._cursor]][1] <= i:
            self._cursor += 1
        if self._cursor < len(self._order):
            j = self._order[self._cursor]
            if self._ranges[j][0] <= i:
                return j
        return None

    def hashes(self) -> list[bytes]:
        if not self.done:
            raise ProofError(f"the log holds {self._whole.size} leaves, not {self.size}")
        return [t.root_bytes() for t in self._trees]

    def root(self) -> bytes:
        self.hashes()
        return self._whole.root_bytes()

    def prefix_root(self, n: int) -> bytes:
        return self._prefix[n]


def inclusion_proof(leaves: Iterable[bytes], index: int, size: int) -> tuple[list[bytes], bytes]:
    """(audit path, root) of leaf ``index`` in the tree of the first ``size`` of ``leaves``
    (raw leaf data, read only as far as ``size``)."""
    hasher = RangeHasher(inclusion_ranges(index, size), size)
    _feed(hasher, leaves)
    return hasher.hashes(), hasher.root()


def consistency_proof(leaves: Iterable[bytes], first: int, second: int) -> tuple[list[bytes], bytes, bytes]:
    """(proof, root at ``first``, root at ``second``) over the first ``second`` of ``leaves``."""
    hasher = RangeHasher(consistency_ranges(first, second), second, also=(first,))
    _feed(hasher, leaves)
    return hasher.hashes(), hasher.prefix_root(first), hasher.root()


def _feed(hasher: RangeHasher, leaves: Iterable[bytes]) -> None:
    if hasher.done:
        return
    for data in leaves:
        hasher.add(data)
        if hasher.done:
            return
    hasher.hashes()  # raises: too few leaves


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root the audit ``path`` of leaf hash ``leaf`` at ``index`` leads to (RFC 9162 §2.1.3.2)."""
    if index >= size or index < 0:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if len(p) != 32:
            raise ProofError("a proof hash is not 32 bytes")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless ``path`` proves leaf hash ``leaf`` at ``index`` under ``root``."""
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of size {size}")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> None:  # fmt: skip
    """Raise ProofError unless ``path`` proves the tree of ``second`` leaves with ``second_root``
    extends the tree of ``first`` leaves with ``first_root`` (RFC 9162 §2.1.4.2; the sizes 0 and
    equal sizes, which need no proof, as RFC 6962 and the reference implementation treat them)."""
    if first < 0 or second < first:
        raise ProofError(f"size {second} cannot extend size {first}")
    if any(len(p) != 32 for p in path):
        raise ProofError("a proof hash is not 32 bytes")
    if first == second:
        if path:
            raise ProofError("equal sizes need an empty proof")
        if first_root != second_root:
            raise ProofError("the two roots of the same size differ")
        return
    if first == 0:
        if path:
            raise ProofError("a consistency proof from the empty tree is empty")
        return
    if not path:
        raise ProofError("the consistency proof is empty")
    path = list(path)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != first_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {first}")
    if sr != second_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {second}")
