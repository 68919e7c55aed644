"""PubMed E-utilities: a paced, retrying client for ESearch, EFetch and EPost.

``EutilsClient`` (or ``client_from_settings``) is the entry point; the
modules beside it hold one job each: pacing, retry classification, ESearch
and EFetch response reading, date-window slicing, offline DTDs.
"""

from .client import EutilsClient, client_from_settings
from .efetch import FetchedBatch, PostResult
from .esearch import SearchResult, parse_esearch, parse_esearch_json
from .pacing import RateLimiter
from .retry import RateLimited, RetryPolicy
from .windows import MAX_IDS, WindowResult

__all__ = [
    "MAX_IDS",
    "EutilsClient",
    "FetchedBatch",
    "PostResult",
    "RateLimited",
    "RateLimiter",
    "RetryPolicy",
    "SearchResult",
    "WindowResult",
    "client_from_settings",
    "parse_esearch",
    "parse_esearch_json",
]
