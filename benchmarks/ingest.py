"""How fast PubMed XML is imported, against a bare lxml parse of the same bytes.

    .venv/bin/python benchmarks/ingest.py [--records 20000] [--keep FILE] [--fixtures DIR]

Builds one PubmedArticleSet of N records by cycling through every real
PubmedArticle in the shared fixtures (``../shared/fixtures/real``), each copy
with a fresh PMID (and DOI, so copies do not look like one work), then times
in separate processes, so each peak RSS is its own:

  (a) bare parse: lxml ``iterparse(tag="PubmedArticle")`` with clearing, the
      PMID read, nothing else (the floor any PubMed parser stands on);
  (b) import: ``litwatch.importing.import_paths`` into a fresh SQLite file
      (full field extraction, JSON, hashing, upsert, commit);
  (c) for the breakdown, ``parse_pubmed_xml`` alone (every field extracted into
      Article records, nothing stored): (b) - (c) is the store's share.

Prints records/s for each, import time / parse time, the input size and each
peak RSS. Targets (issue 2): import within 2.0x of the bare parse; peak RSS
under 250 MB for a 300 MB input (about --records 20000 with these records).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)
FOOTER = b"</PubmedArticleSet>\n"
FIRST_PMID = 60_000_000
PMID_MARK = b"@@PMID@@"
DOI_MARK = b"@@DOI@@"


def templates(fixtures: Path) -> list[bytes]:
    """Every real PubmedArticle as bytes, with marks where the PMID and DOI go."""
    found: dict[str, bytes] = {}
    for path in sorted(fixtures.rglob("*.xml")):
        try:
            for _, elem in etree.iterparse(
                str(path), tag="PubmedArticle", load_dtd=False, no_network=True
            ):
                pmid_elem = elem.find("MedlineCitation/PMID")
                if pmid_elem is None or not pmid_elem.text or pmid_elem.text in found:
                    continue
                key = pmid_elem.text
                pmid_elem.text = PMID_MARK.decode()
                for id_elem in elem.iterfind("PubmedData/ArticleIdList/ArticleId"):
                    if id_elem.get("IdType") == "pubmed":
                        id_elem.text = PMID_MARK.decode()
                    elif id_elem.get("IdType") == "doi" and id_elem.text:
                        id_elem.text = id_elem.text + "/" + DOI_MARK.decode()
                found[key] = etree.tostring(elem, encoding="utf-8") + b"\n"
                elem.clear()
        except etree.XMLSyntaxError:
            continue  # not PubMed XML (esearch answers and the like)
    return list(found.values())


def build(path: Path, records: int, fixtures: Path) -> int:
    pool = templates(fixtures)
    if not pool:
        raise SystemExit(f"no PubmedArticle found under {fixtures}")
    with path.open("wb") as out:
        out.write(HEADER)
        for n in range(records):
            pmid = str(FIRST_PMID + n).encode()
            record = pool[n % len(pool)].replace(PMID_MARK, pmid)
            out.write(record.replace(DOI_MARK, b"bench" + pmid))
        out.write(FOOTER)
    return len(pool)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_parse(path: Path) -> dict[str, float]:
    start = time.perf_counter()
    count = 0
    for _, elem in etree.iterparse(
        str(path), tag="PubmedArticle", load_dtd=False, no_network=True, resolve_entities=False
    ):
        elem.findtext("MedlineCitation/PMID")
        count += 1
        elem.clear()
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]
    seconds = time.perf_counter() - start
    return {"records": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def phase_records(path: Path) -> dict[str, float]:
    from litwatch.pubmed_xml import parse_pubmed_xml

    start = time.perf_counter()
    count = sum(1 for _ in parse_pubmed_xml(path))
    seconds = time.perf_counter() - start
    return {"records": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def phase_import(path: Path, db_file: Path) -> dict[str, float]:
    from datetime import UTC, datetime

    from litwatch.db import open_database
    from litwatch.importing import import_paths

    engine = open_database(f"sqlite:///{db_file}")
    try:
        start = time.perf_counter()
        summary = import_paths(engine, [path], now=datetime.now(UTC))
        seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    if summary.failed:
        raise SystemExit(f"import failed: {summary.failed[0].error}")
    return {"records": summary.new, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def run_phase(*args: str) -> dict[str, float]:
    """One phase in a fresh interpreter, so its peak RSS is its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records in the file")
    parser.add_argument("--keep", type=Path, help="write the XML file here and keep it")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        kind, *paths = args.phase
        if kind == "parse":
            result = phase_parse(Path(paths[0]))
        elif kind == "records":
            result = phase_records(Path(paths[0]))
        else:
            result = phase_import(Path(paths[0]), Path(paths[1]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="litwatch-bench-") as tmp:
        xml_path = args.keep or Path(tmp) / "bench.xml"
        started = time.perf_counter()
        pool = build(xml_path, args.records, args.fixtures)
        size_mb = xml_path.stat().st_size / 1e6
        print(
            f"input: {args.records:,} records ({pool} distinct real records), "
            f"{size_mb:,.1f} MB, built in {time.perf_counter() - started:.1f} s"
        )
        parsed = run_phase("parse", str(xml_path))
        imported = run_phase("import", str(xml_path), str(Path(tmp) / "bench.db"))
        records = run_phase("records", str(xml_path))

    parse_rate = parsed["records"] / parsed["seconds"]
    import_rate = imported["records"] / imported["seconds"]
    ratio = imported["seconds"] / parsed["seconds"]
    print(
        f"(a) bare lxml iterparse: {parse_rate:9,.0f} rec/s  "
        f"({parsed['seconds']:.2f} s, {size_mb / parsed['seconds']:.0f} MB/s), "
        f"peak RSS {parsed['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(b) litwatch import:     {import_rate:9,.0f} rec/s  "
        f"({imported['seconds']:.2f} s, {size_mb / imported['seconds']:.0f} MB/s), "
        f"peak RSS {imported['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(c) parse_pubmed_xml only: {records['records'] / records['seconds']:7,.0f} rec/s  "
        f"({records['seconds']:.2f} s; {records['seconds'] / parsed['seconds']:.2f}x bare), "
        f"peak RSS {records['peak_rss_mb']:.0f} MB"
    )
    per_record_ms = 1000 / args.records
    print(
        "per record: bare parse {:.3f} ms, field extraction {:.3f} ms, store {:.3f} ms".format(
            parsed["seconds"] * per_record_ms,
            (records["seconds"] - parsed["seconds"]) * per_record_ms,
            (imported["seconds"] - records["seconds"]) * per_record_ms,
        )
    )
    print(f"import / bare parse: {ratio:.2f}x  (target <= 2.0x; peak RSS target < 250 MB)")
    if imported["records"] != args.records:
        print(f"WARNING: imported {imported['records']:,} new records, expected {args.records:,}")


if __name__ == "__main__":
    main()
