"""Titles and abstracts with inline markup: a plain-text form and a safe-markup form.

PubMed's ``%text;`` allows ``<i> <b> <sup> <sub> <u>`` inside titles, abstract
sections and keywords, and ``mml:math`` (MathML) or ``DispFormula`` too. We
keep two forms of every such element:

* ``text``: plain text, every tag dropped, whitespace collapsed (what the query
  language searches and the terminal shows);
* ``markup``: the same text HTML-escaped, with only the five inline tags kept
  (what a template may mark safe).

MathML becomes linear text (token contents in order, ``a/b`` for fractions),
with ``msub``/``msup`` kept as ``<sub>``/``<sup>`` in the markup, so no MathML
tag ever reaches either form. Any other unknown element contributes its text.

A document parsed by a ``BlankDroppingParser`` (faster: libxml2 skips the
pretty-printing whitespace between elements) may also have lost a blank that
separated two words, as in ``<i>Bacillus</i> <i>subtilis</i>``: libxml2
guesses which blanks are formatting, and guesses wrong inside text that
begins with an element. Where such a blank could have been, reading the text
(or a name read as a leaf, ``leaf_text``) raises ``BlankTextDropped``, so the
caller reads that record again with every blank kept. A blank dropped before
a comment, CDATA section or processing instruction leaves no trace here: the
caller keeps every blank in a document holding one (``pubmed_xml``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from lxml import etree

SAFE_TAGS = frozenset({"i", "b", "sup", "sub", "u"})
MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"

# MathML parts that never hold visible content (alternative encodings, TeX).
_MATH_SKIP = frozenset({"annotation", "annotation-xml", "none", "mprescripts"})


class BlankDroppingParser(etree.XMLParser):
    """An ``XMLParser`` with ``remove_blank_text``: text read from its documents is checked."""

    def __init__(self, **options: Any) -> None:
        super().__init__(remove_blank_text=True, **options)


class BlankTextDropped(Exception):
    """A blank between words may have been dropped by a ``BlankDroppingParser``."""


def collapse(text: str) -> str:
    """Runs of whitespace (pretty-printing, line breaks) become one space."""
    if text.isascii() and not ("  " in text or "\n" in text or "\t" in text or "\r" in text):
        # The common case, without splitting into words. (Other ASCII
        # whitespace than these cannot occur in XML text.)
        return text.strip()
    return " ".join(text.split())  # also folds no-break and thin spaces


def text_and_markup(elem: etree._Element) -> tuple[str, str]:
    """``(plain text, safe markup)`` of an element holding ``%text;`` content."""
    if len(elem) == 0:  # the common case: no child elements at all
        plain = collapse(elem.text or "")
        return plain, escape(plain, quote=False)
    text_parts: list[str] = []
    markup_parts: list[str] = []
    if elem.text:
        _add(elem.text, text_parts, markup_parts)
    else:
        _check_no_blank_dropped(elem, nested=False)
    for child in elem:
        _render(child, text_parts, markup_parts)
        if child.tail:
            _add(child.tail, text_parts, markup_parts)
    return collapse("".join(text_parts)), _collapse_markup("".join(markup_parts))


def plain_text(elem: etree._Element | None) -> str:
    """The plain-text form only (keywords, affiliations, collective names)."""
    if elem is None:
        return ""
    if len(elem) == 0:
        return collapse(elem.text or "")
    return text_and_markup(elem)[0]


def leaf_text(elem: etree._Element) -> str | None:
    """``elem.text`` of an element read as a leaf (a name, a date part, an id).

    Should it hold a child after all, a blank before it may have been dropped
    (``" "`` then reads as None), so ``BlankTextDropped`` is raised as for text.
    """
    text = elem.text
    if text is None and len(elem):
        _check_no_blank_dropped(elem, nested=True)
    return text


def _check_no_blank_dropped(elem: etree._Element, *, nested: bool) -> None:
    """Raise ``BlankTextDropped`` if a blank between words may be missing in ``elem``.

    It is called for an element with children and no leading text: libxml2
    drops a blank-only text node when the element's content so far begins and
    ends with an element (``xmlKeepBlanksDefault(0)``'s heuristic), so only
    such an element is at risk. There a child with no tail is either followed
    by the next element or lost a blank, and only a parse that keeps blanks can
    tell. Blanks at either end matter only in a nested element (the whole text
    is stripped), where a leading one may have gone too.
    """
    at_risk = nested or any(child.tail is None for child in list(elem)[:-1])
    if at_risk and isinstance(elem.getroottree().parser, BlankDroppingParser):
        raise BlankTextDropped(f"<{elem.tag}> may have lost a blank between words")


def _add(text: str, text_parts: list[str], markup_parts: list[str]) -> None:
    text_parts.append(text)
    markup_parts.append(escape(text, quote=False))


def _collapse_markup(markup: str) -> str:
    # Tags carry no attributes, so collapsing whitespace cannot break one;
    # a tag left empty by collapsing (``<i> </i>``) is harmless.
    return collapse(markup)


def _render(node: etree._Element, text_parts: list[str], markup_parts: list[str]) -> None:
    """One child node of a ``%text;`` element, without its tail."""
    tag: object = node.tag  # a function, not a str, for comments and entities
    if not isinstance(tag, str):
        # Comments and processing instructions are not content; an entity
        # reference left unresolved (resolve_entities=False) is shown as written.
        if tag is etree.Entity:
            _add(node.text or "", text_parts, markup_parts)
        return
    if len(node) and not node.text and not _is_math(tag):
        _check_no_blank_dropped(node, nested=True)  # MathML reads no blanks
    if tag in SAFE_TAGS:
        inner_text: list[str] = []
        inner_markup: list[str] = []
        if node.text:
            _add(node.text, inner_text, inner_markup)
        for child in node:
            _render(child, inner_text, inner_markup)
            if child.tail:
                _add(child.tail, inner_text, inner_markup)
        text_parts.extend(inner_text)
        markup_parts.append(f"<{tag}>{''.join(inner_markup)}</{tag}>")
        return
    if _is_math(tag):
        plain, markup = _math(node)
        # Math sits inline in a sentence: keep it apart from the words around it.
        text_parts.append(f" {plain} ")
        markup_parts.append(f" {markup} ")
        return
    # Unknown element (DispFormula, a new tag): keep its words, drop the tag.
    if node.text:
        _add(node.text, text_parts, markup_parts)
    for child in node:
        _render(child, text_parts, markup_parts)
        if child.tail:
            _add(child.tail, text_parts, markup_parts)


def _is_math(tag: str) -> bool:
    return tag.startswith(MATHML_NS) or tag == "math"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _math(node: etree._Element) -> tuple[str, str]:
    """Linear ``(text, markup)`` of a MathML subtree (presentation or content)."""
    tag: object = node.tag
    if not isinstance(tag, str):
        return "", ""
    name = _local(tag)
    if name in _MATH_SKIP:
        return "", ""
    children = [c for c in node if isinstance(c.tag, str)]
    if name == "semantics" and children:
        return _math(children[0])
    own = leaf_text(node) if name == "mtext" else (node.text or "").strip()
    own_text = collapse(own or "") if own and own.strip() else (own or "")
    if len(children) >= 2 and name in {"msub", "msup", "msubsup", "munder", "mover"}:
        base_t, base_m = _math(children[0])
        first_t, first_m = _math(children[1])
        if name in {"msub", "munder"}:
            return base_t + first_t, f"{base_m}<sub>{first_m}</sub>"
        if name in {"msup", "mover"}:
            return base_t + first_t, f"{base_m}<sup>{first_m}</sup>"
        second_t, second_m = _math(children[2]) if len(children) > 2 else ("", "")
        return (
            base_t + first_t + second_t,
            f"{base_m}<sub>{first_m}</sub><sup>{second_m}</sup>",
        )
    if name == "mmultiscripts" and children:
        return _multiscripts(children)
    if name == "mfrac" and len(children) == 2:
        num_t, num_m = _math(children[0])
        den_t, den_m = _math(children[1])
        return f"{num_t}/{den_t}", f"{num_m}/{den_m}"
    if name == "msqrt":
        inner = [_math(c) for c in children]
        return (
            "√(" + "".join(t for t, _ in inner) + ")",
            "√(" + "".join(m for _, m in inner) + ")",
        )
    texts = [own_text] if own_text else []
    markups = [escape(own_text, quote=False)] if own_text else []
    for child in children:
        t, m = _math(child)
        texts.append(t)
        markups.append(m)
    if name == "mfenced":
        opener = node.get("open", "(")
        closer = node.get("close", ")")
        sep = node.get("separators", ",")[:1]
        return (
            opener + sep.join(texts) + closer,
            escape(opener, quote=False)
            + escape(sep, quote=False).join(markups)
            + escape(closer, quote=False),
        )
    return "".join(texts), "".join(markups)


def _multiscripts(children: list[etree._Element]) -> tuple[str, str]:
    """``<mmultiscripts>``: base, (sub, sup) pairs after it, ``<mprescripts/>``, pairs before.

    Isotopes are the usual case: ``³He`` is written as He with a presuperscript 3.
    """
    base_t, base_m = _math(children[0])
    post: list[etree._Element] = []
    pre: list[etree._Element] = []
    target = post
    for child in children[1:]:
        if _local(str(child.tag)) == "mprescripts":
            target = pre
        else:
            target.append(child)

    def scripts(items: list[etree._Element]) -> tuple[str, str]:
        texts, markups = [], []
        for index, item in enumerate(items):
            t, m = _math(item)
            if t:
                tag = "sub" if index % 2 == 0 else "sup"
                texts.append(t)
                markups.append(f"<{tag}>{m}</{tag}>")
        return "".join(texts), "".join(markups)

    pre_t, pre_m = scripts(pre)
    post_t, post_m = scripts(post)
    return pre_t + base_t + post_t, pre_m + base_m + post_m
