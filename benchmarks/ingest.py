"""How fast PubMed XML is imported, against a bare lxml parse of the same bytes.

    .venv/bin/python benchmarks/ingest.py [--records 20000] [--repeat 1] [--keep FILE]
                                          [--fixtures DIR]

Builds one PubmedArticleSet of N records by cycling through every real
PubmedArticle in the shared fixtures (``../shared/fixtures/real``), each copy
with a fresh PMID (and DOI, so copies do not look like one work), then times
in separate processes, so each peak RSS is its own:

  (a) bare parse: lxml ``iterparse(tag="PubmedArticle")`` with clearing, the
      PMID read, nothing else (the floor any PubMed parser stands on);
  (b) import: ``litwatch.importing.import_paths`` into a fresh SQLite file
      (full field extraction, JSON, hashing, upsert, commit), as ``litwatch
      import`` runs it: a file this large is parsed by worker processes, one
      per CPU (``--jobs`` to choose), while the main process writes;
  (c) for the breakdown, ``parse_pubmed_xml`` alone (every field extracted into
      Article records, nothing stored): (b) - (c) is the store's share.

Prints records/s for each, import time / parse time, the input size and each
peak RSS (for the import: the main process, and the largest worker), plus each
phase's CPU time (all threads and worker processes: the import's CPU time
exceeds its wall time, as it works on every core). On a shared machine use
``--repeat N``: each phase runs N times and its fastest run is reported (as
``timeit`` does), with the range of the ratio.

Targets (issue 2): import within 2.0x of the bare parse; peak RSS under
250 MB for a 300 MB input (about --records 20000 with these records).
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


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the import's parse workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(count: int, started: float, cpu_started: float) -> dict[str, float]:
    """Wall and CPU time since the start; CPU and peak RSS include worker processes."""
    return {
        "records": count,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() + children_cpu() - cpu_started,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": peak_rss_mb(resource.RUSAGE_CHILDREN),
    }


def phase_parse(path: Path) -> dict[str, float]:
    start, cpu_start = time.perf_counter(), time.process_time() + children_cpu()
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
    return timed(count, start, cpu_start)


def phase_records(path: Path) -> dict[str, float]:
    from litwatch.pubmed_xml import parse_pubmed_xml

    start, cpu_start = time.perf_counter(), time.process_time() + children_cpu()
    count = sum(1 for _ in parse_pubmed_xml(path))
    return timed(count, start, cpu_start)


def phase_import(path: Path, db_file: Path, jobs: int | None) -> dict[str, float]:
    from datetime import UTC, datetime

    from litwatch.db import open_database
    from litwatch.importing import import_paths

    engine = open_database(f"sqlite:///{db_file}")
    try:
        start, cpu_start = time.perf_counter(), time.process_time() + children_cpu()
        summary = import_paths(engine, [path], now=datetime.now(UTC), jobs=jobs)
    finally:
        engine.dispose()  # timed too: closing SQLite checkpoints what the WAL still holds
    result = timed(summary.new, start, cpu_start)
    if summary.failed:
        raise SystemExit(f"import failed: {summary.failed[0].error}")
    return result


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


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """The fastest run, with the highest peak RSS seen in any run."""
    fastest = dict(min(runs, key=lambda run: run["seconds"]))
    fastest["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    fastest["worker_peak_rss_mb"] = max(run["worker_peak_rss_mb"] for run in runs)
    return fastest


def describe(label: str, run: dict[str, float], size_mb: float) -> str:
    return (
        f"{label} {run['records'] / run['seconds']:9,.0f} rec/s  "
        f"({run['seconds']:.2f} s, {size_mb / run['seconds']:.0f} MB/s, "
        f"CPU {run['cpu_seconds']:.2f} s), peak RSS {run['peak_rss_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records in the file")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each phase (best kept)")
    parser.add_argument("--keep", type=Path, help="write the XML file here and keep it")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument(
        "--jobs", type=int, help="import's parse processes (default: one per CPU, as the CLI)"
    )
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        kind, *paths = args.phase
        if kind == "parse":
            result = phase_parse(Path(paths[0]))
        elif kind == "records":
            result = phase_records(Path(paths[0]))
        else:
            jobs = int(paths[2]) if len(paths) > 2 else None
            result = phase_import(Path(paths[0]), Path(paths[1]), jobs)
        print(json.dumps(result))
        return

    parses: list[dict[str, float]] = []
    imports: list[dict[str, float]] = []
    extractions: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="litwatch-bench-") as tmp:
        xml_path = args.keep or Path(tmp) / "bench.xml"
        started = time.perf_counter()
        pool = build(xml_path, args.records, args.fixtures)
        size_mb = xml_path.stat().st_size / 1e6
        print(
            f"input: {args.records:,} records ({pool} distinct real records), "
            f"{size_mb:,.1f} MB, built in {time.perf_counter() - started:.1f} s"
        )
        # Round-robin, so a change in the machine's load hits every phase alike.
        for n in range(max(1, args.repeat)):
            parses.append(run_phase("parse", str(xml_path)))
            db_file = str(Path(tmp) / f"bench{n}.db")
            jobs = [] if args.jobs is None else [str(args.jobs)]
            imports.append(run_phase("import", str(xml_path), db_file, *jobs))
            extractions.append(run_phase("records", str(xml_path)))

    parsed, imported, records = best(parses), best(imports), best(extractions)
    ratio = imported["seconds"] / parsed["seconds"]
    print(describe("(a) bare lxml iterparse: ", parsed, size_mb))
    print(describe("(b) litwatch import:     ", imported, size_mb))
    print(
        describe("(c) parse_pubmed_xml only:", records, size_mb)
        + f"; {records['seconds'] / parsed['seconds']:.2f}x bare"
    )
    per_record_ms = 1000 / args.records
    print(
        "per record: bare parse {:.3f} ms, field extraction {:.3f} ms, "
        "store (wall, beyond extraction) {:.3f} ms".format(
            parsed["seconds"] * per_record_ms,
            (records["seconds"] - parsed["seconds"]) * per_record_ms,
            (imported["seconds"] - records["seconds"]) * per_record_ms,
        )
    )
    if len(parses) > 1:
        rounds = sorted(i["seconds"] / p["seconds"] for p, i in zip(parses, imports, strict=True))
        print(f"ratio per round ({len(rounds)}): {rounds[0]:.2f}x .. {rounds[-1]:.2f}x")
    print(
        f"import's parse workers: peak RSS {imported['worker_peak_rss_mb']:.0f} MB each at most "
        f"(main process {imported['peak_rss_mb']:.0f} MB)"
    )
    print(
        "CPU time (all processes), import / bare parse: "
        f"{imported['cpu_seconds'] / parsed['cpu_seconds']:.2f}x"
    )
    print(
        f"import / bare parse (wall, best runs): {ratio:.2f}x  "
        "(target <= 2.0x; peak RSS target < 250 MB)"
    )
    if imported["records"] != args.records:
        print(f"WARNING: imported {imported['records']:,} new records, expected {args.records:,}")


if __name__ == "__main__":
    main()
