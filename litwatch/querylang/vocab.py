"""Small controlled vocabularies PubMed searches lean on, and how to fold them.

- MeSH qualifier (subheading) abbreviations: ``su[sh]``, ``"Cryopreservation/lj"[mh]``.
- The clinical-study branch of the Publication Type hierarchy, so that
  ``clinical trial[pt]`` finds randomized controlled trials as PubMed does
  (only this branch; other types match themselves alone).
- Language codes of PubMed records (``eng``) and the names searched (``english``).
- Subset (``[sb]``) values a stored record can answer.
"""

from __future__ import annotations

from functools import lru_cache

from .textmatch import fold_search


@lru_cache(maxsize=65536)
def fold_heading(text: str) -> str:
    """Fold a heading or name: ``Statistics & Numerical Data`` -> ``statistics and numerical data``.

    Cached: MeSH headings, publication types and journal names repeat across records.
    """
    return fold_search(text.replace("&", " and "))


@lru_cache(maxsize=65536)
def fold_name(text: str) -> str:
    """A heading or name as one folded key, spaces dropped, for whole-value comparison:
    ``Anti-Bacterial Agents`` and ``antibacterial agents`` agree."""
    return fold_heading(text).replace(" ", "")


QUALIFIER_ABBREVIATIONS = {
    "ab": "abnormalities",
    "ad": "administration and dosage",
    "ae": "adverse effects",
    "ag": "agonists",
    "ah": "anatomy and histology",
    "ai": "antagonists and inhibitors",
    "an": "analysis",
    "bi": "biosynthesis",
    "bl": "blood",
    "bs": "blood supply",
    "cf": "cerebrospinal fluid",
    "ch": "chemistry",
    "ci": "chemically induced",
    "cl": "classification",
    "cn": "congenital",
    "co": "complications",
    "cs": "chemical synthesis",
    "ct": "contraindications",
    "cy": "cytology",
    "de": "drug effects",
    "df": "deficiency",
    "dg": "diagnostic imaging",
    "dh": "diet therapy",
    "di": "diagnosis",
    "dt": "drug therapy",
    "ec": "economics",
    "ed": "education",
    "eh": "ethnology",
    "em": "embryology",
    "en": "enzymology",
    "ep": "epidemiology",
    "es": "ethics",
    "et": "etiology",
    "ge": "genetics",
    "gd": "growth and development",
    "hi": "history",
    "im": "immunology",
    "in": "injuries",
    "ir": "innervation",
    "is": "isolation and purification",
    "lj": "legislation and jurisprudence",
    "ma": "manpower",
    "me": "metabolism",
    "mi": "microbiology",
    "mo": "mortality",
    "mt": "methods",
    "nu": "nursing",
    "og": "organization and administration",
    "pa": "pathology",
    "pc": "prevention and control",
    "pd": "pharmacology",
    "ph": "physiology",
    "pk": "pharmacokinetics",
    "po": "poisoning",
    "pp": "physiopathology",
    "ps": "parasitology",
    "px": "psychology",
    "py": "pathogenicity",
    "ra": "radiation effects",
    "re": "rehabilitation",
    "rt": "radiotherapy",
    "sc": "secondary",
    "se": "secretion",
    "sd": "supply and distribution",
    "sn": "statistics and numerical data",
    "st": "standards",
    "su": "surgery",
    "th": "therapy",
    "tm": "transmission",
    "to": "toxicity",
    "tr": "transplantation",
    "tu": "therapeutic use",
    "ul": "ultrastructure",
    "ur": "urine",
    "ut": "utilization",
    "ve": "veterinary",
    "vi": "virology",
}


def qualifier_name(key: str) -> str:
    """A qualifier key (``fold_name``) as written in a query, abbreviation expanded:
    ``su`` -> ``surgery``."""
    name = QUALIFIER_ABBREVIATIONS.get(key)
    return name.replace(" ", "") if name else key


# Publication Type tree, clinical-study branch only (MeSH V03.175): the branch litwatch's
# trial detection leans on, and one whose shape is certain.
_PT_CHILDREN = {
    "clinical study": ("adaptive clinical trial", "clinical trial", "observational study"),
    "clinical trial": (
        "clinical trial phase i",
        "clinical trial phase ii",
        "clinical trial phase iii",
        "clinical trial phase iv",
        "controlled clinical trial",
        "clinical trial veterinary",
    ),
    "controlled clinical trial": ("randomized controlled trial",),
    "randomized controlled trial": ("equivalence trial", "pragmatic clinical trial"),
    "observational study": ("observational study veterinary",),
}


_PT_TREE = {
    parent.replace(" ", ""): tuple(child.replace(" ", "") for child in children)
    for parent, children in _PT_CHILDREN.items()
}


def publication_type_family(key: str) -> frozenset[str]:
    """The type (a ``fold_name`` key) and every type beneath it in the partial tree above."""
    found = {key}
    stack = [key]
    while stack:
        for child in _PT_TREE.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


LANGUAGES = {
    "afr": "afrikaans",
    "alb": "albanian",
    "ara": "arabic",
    "arm": "armenian",
    "bul": "bulgarian",
    "cat": "catalan",
    "chi": "chinese",
    "cze": "czech",
    "dan": "danish",
    "dut": "dutch",
    "eng": "english",
    "est": "estonian",
    "fin": "finnish",
    "fre": "french",
    "ger": "german",
    "gre": "greek",
    "heb": "hebrew",
    "hin": "hindi",
    "hrv": "croatian",
    "hun": "hungarian",
    "ice": "icelandic",
    "ind": "indonesian",
    "ita": "italian",
    "jpn": "japanese",
    "kor": "korean",
    "lav": "latvian",
    "lit": "lithuanian",
    "mul": "multiple languages",
    "nor": "norwegian",
    "per": "persian",
    "pol": "polish",
    "por": "portuguese",
    "rum": "romanian",
    "rus": "russian",
    "scc": "serbian",
    "slo": "slovak",
    "slv": "slovenian",
    "spa": "spanish",
    "swe": "swedish",
    "tha": "thai",
    "tur": "turkish",
    "ukr": "ukrainian",
    "und": "undetermined",
    "vie": "vietnamese",
}

# [sb] values answered from the record's MedlineCitation@Status, abstract, kind or PMC id.
SUBSET_STATUSES = {
    "medline": frozenset({"MEDLINE", "OLDMEDLINE"}),
    "oldmedline": frozenset({"OLDMEDLINE"}),
    "pubmednotmedline": frozenset({"PubMed-not-MEDLINE"}),
    "pubmed not medline": frozenset({"PubMed-not-MEDLINE"}),
    "publisher": frozenset({"Publisher"}),
    "inprocess": frozenset({"In-Process"}),
    "in process": frozenset({"In-Process"}),
    "indatareview": frozenset({"In-Data-Review"}),
    "in data review": frozenset({"In-Data-Review"}),
}
SUBSET_HAS_ABSTRACT = frozenset({"hasabstract", "has abstract"})
SUBSET_BOOKS = frozenset({"pmcbook", "books", "bookshelf"})
SUBSET_PMC = frozenset({"pubmed pmc", "pmc", "pubmed pmc local"})
