"""Bytes of Chroma store per chunk, by vector size and text length: the figures behind index.space's estimate.

Chunks are written as an ingest writes them (batches of 16, random unit vectors, Japanese text of the given
length) into a fresh store; the growth between 400 and 2,000 chunks is measured, so the fixed cost of an empty
store is left out. Run: `python bench/store_bytes.py > bench/results/store_bytes.md` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import sys

from policyqa.testing.store_bytes import bytes_per_chunk, text_bytes


def main() -> None:
    print("| dims | characters per chunk | UTF-8 bytes of text | store bytes per chunk |")
    print("|---|---|---|---|")
    for dim, chars in ((256, 400), (768, 400), (768, 100), (256, 100)):
        print(f"| {dim} | {chars} | {text_bytes(chars)} | {bytes_per_chunk(dim, chars):,.0f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
