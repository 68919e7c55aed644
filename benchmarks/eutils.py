"""How fast the E-utilities client and the local stub work together (no pacing).

    .venv/bin/python benchmarks/eutils.py [--records 25000] [--fetch 5000] [--batch 300]

Builds a synthetic corpus of N records over 10 create dates, starts the stub
with its rate limit off, and times with the client (rate 10,000/s):

  (a) a crdt window holding all N records, sliced under 9,999 ids a slice;
  (b) efetch of the first M PMIDs by POST in batches, parsed into Articles;
  (c) 50 one-term esearch calls (the per-request round trip).

Prints seconds, requests, ids/s and records/s. Against NCBI itself the pace
(3/s, 10/s with a key) dominates: (a) and (b) then take requests / rate.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import requests

from litwatch.config import EutilsSettings
from litwatch.eutils import EutilsClient
from litwatch.testing.eutils_stub import EutilsStub
from litwatch.testing.stub_corpus import StubCorpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=25_000)
    parser.add_argument("--fetch", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=300)
    args = parser.parse_args()

    start = date(2026, 1, 1)
    began = time.perf_counter()
    corpus = StubCorpus.synthetic(args.records, created=lambda n: start + timedelta(days=n % 10))
    print(f"corpus: {args.records} synthetic records in {time.perf_counter() - began:.2f} s")

    with EutilsStub(corpus, rate_limit=False) as stub, requests.Session() as session:
        settings = EutilsSettings(base_url=stub.base_url, batch_size=args.batch)
        client = EutilsClient(session, settings, rate=10_000)

        began = time.perf_counter()
        window = client.search_window("ketamine", "crdt", start, start + timedelta(days=9))
        took = time.perf_counter() - began
        print(
            f"(a) window: {len(window.ids)} ids, {window.slices} slices, {window.requests} "
            f"requests in {took:.2f} s ({len(window.ids) / took:,.0f} ids/s)"
        )

        pmids = window.ids[: args.fetch]
        before = client.request_count
        began = time.perf_counter()
        fetched = sum(len(batch.articles) for batch in client.fetch(pmids))
        took = time.perf_counter() - began
        print(
            f"(b) efetch: {fetched} records, {client.request_count - before} POSTs of "
            f"{args.batch} in {took:.2f} s ({fetched / took:,.0f} records/s)"
        )

        began = time.perf_counter()
        for _ in range(50):
            client.esearch("ketamine AND 2026/01/01:2026/01/01[crdt]", retmax=20)
        took = time.perf_counter() - began
        print(f"(c) esearch: 50 calls in {took:.2f} s ({took / 50 * 1000:.1f} ms a call)")


if __name__ == "__main__":
    main()
