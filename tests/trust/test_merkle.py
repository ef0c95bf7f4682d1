"""The log's Merkle tree hashes and proves inclusion as RFC 6962 specifies."""

from __future__ import annotations

import hashlib

import pytest

from anya_sigstore_local import merkle

# The certificate-transparency project's reference leaves and tree heads for them.
REFERENCE_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def root_from_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162, section 2.1.3.2: the root an inclusion proof leads to."""
    node, last, result = index, size - 1, leaf
    for sibling in proof:
        assert last != 0, "proof longer than the path to the root"
        if node & 1 or node == last:
            result = merkle.node_hash(sibling, result)
            while not node & 1 and node != 0:
                node, last = node >> 1, last >> 1
        else:
            result = merkle.node_hash(result, sibling)
        node, last = node >> 1, last >> 1
    assert last == 0, "proof shorter than the path to the root"
    return result


@pytest.mark.parametrize("size", range(1, len(REFERENCE_LEAVES) + 1))
def test_tree_heads_match_the_reference_vectors(size: int) -> None:
    leaves = [merkle.leaf_hash(leaf) for leaf in REFERENCE_LEAVES[:size]]

    assert merkle.root_hash(leaves).hex() == REFERENCE_ROOTS[size - 1]


def test_the_empty_tree_head_is_the_hash_of_nothing() -> None:
    assert merkle.root_hash([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 34))
def test_every_inclusion_proof_leads_to_the_tree_head(size: int) -> None:
    leaves = [merkle.leaf_hash(str(number).encode()) for number in range(size)]
    root = merkle.root_hash(leaves)

    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        assert root_from_proof(index, size, leaves[index], proof) == root


def test_a_leaf_outside_the_tree_has_no_proof() -> None:
    with pytest.raises(IndexError, match="leaf 3 is not in a tree of 3"):
        merkle.inclusion_proof(3, [merkle.leaf_hash(b"x")] * 3)
