"""The documentation: every code block runs, in every language, and the site builds strictly.

The English pages are docs/*.md. Their translations, docs/zh/*.md (Simplified
Chinese) and docs/zh-Hant/*.md (Traditional Chinese), are the only text in the
repository that is not in English; mkdocs-static-i18n builds them into site/zh/
and site/zh-Hant/, English pages without a translation standing in for them.

The rules, one test each:

1. Every Python block of every page of every language runs (the blocks of one
   page share a namespace, in order).
2. ``TRANSLATIONS`` lists each language's translated pages exactly: a page
   translated but not listed, or listed but missing, fails.
3. A translation's code is its English page's code. Its fenced blocks, with
   comments removed, appear among the English page's blocks in the same order,
   each equal to one English block. Comments may be translated; everything else
   (printed strings, docstrings, whitespace inside a line aside) stays as in
   English. A translation may lag behind its English page, never differ from it.
4. Each section of a translation names the English section it translates,
   ``## 张量与梯度 {#tensors-and-gradients}``, so that every anchor is the same in
   every language. English sections missing from a translation are reported
   (the test skips, naming them) rather than failed: someone adds them to the
   English page first, and the translation follows.
"""

import contextlib
import difflib
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = ROOT / "docs"

#: The translated pages of each language; each is a translation of docs/<name>.
TRANSLATIONS = {
    "zh": ["index.md", "quickstart.md", "book.md", "gradient_checking.md"],
    "zh-Hant": ["index.md", "quickstart.md"],
}

ENGLISH = sorted(DOCS_DIR.glob("*.md"))
TRANSLATED = [DOCS_DIR / lang / name for lang, names in TRANSLATIONS.items() for name in names]
PAGES = ENGLISH + [page for page in TRANSLATED if page.exists()]

FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
HEADING = re.compile(r"^## +(?P<title>.+?)(?: +\{#(?P<id>[\w-]+)\})? *$", re.M)


def _name(page: Path) -> str:
    return page.relative_to(DOCS_DIR).as_posix()


def _blocks(page: Path) -> list[tuple[str, str]]:
    """The fenced code blocks of a page, as (language, code)."""
    blocks = []
    for m in FENCE.finditer(page.read_text(encoding="utf-8")):
        indent = len(m["indent"])
        body = "".join(line[indent:] for line in m["body"].splitlines(keepends=True))
        blocks.append((m["lang"], body))
    return blocks


def _without_comments(lang: str, code: str) -> tuple:
    """What must be equal across languages: the code less its comments.

    Python is compared token by token (so a ``#`` inside a string is not a
    comment, and spacing inside a line does not matter); other blocks (shell)
    line by line, less what follows a ``#`` at the start or after a space.
    """
    if lang == "python":
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        skip = {tokenize.COMMENT, tokenize.NL}
        return (lang, *((t.type, t.string) for t in tokens if t.type not in skip))
    lines = (re.sub(r"(^|\s)#.*$", "", line).rstrip() for line in code.splitlines())
    return (lang, *(line for line in lines if line))


def _english_of(page: Path) -> Path:
    return DOCS_DIR / page.name


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_python_blocks_run(page):
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    with contextlib.redirect_stdout(io.StringIO()):
        for lang, block in _blocks(page):
            if lang == "python":
                exec(compile(block, str(page), "exec"), namespace)


@pytest.mark.parametrize("lang", sorted(TRANSLATIONS))
def test_translations_are_listed(lang):
    """TRANSLATIONS is the truth: no unlisted translation, no missing one, each of an English page."""
    present = sorted(p.name for p in (DOCS_DIR / lang).glob("*.md"))
    assert present == sorted(TRANSLATIONS[lang]), f"docs/{lang}/ holds {present}; TRANSLATIONS says"
    for name in present:
        assert (DOCS_DIR / name).exists(), f"docs/{lang}/{name} translates docs/{name}, which does not exist"


@pytest.mark.parametrize("page", TRANSLATED, ids=_name)
def test_translated_code_is_the_english_code(page):
    """Each block of the translation equals (less comments) the next matching English block."""
    english = [_without_comments(*b) for b in _blocks(_english_of(page))]
    translated = _blocks(page)
    assert translated or not english, f"{_name(page)} has no code block; docs/{page.name} has {len(english)}"
    at = 0
    for i, block in enumerate(translated):
        code = _without_comments(*block)
        if code in english[at:]:
            at = english.index(code, at) + 1
            continue
        raw = [b[1] for b in _blocks(_english_of(page))]
        near = max(raw, key=lambda e: difflib.SequenceMatcher(None, e, block[1]).ratio(), default="")
        diff = difflib.unified_diff(
            near.splitlines(), block[1].splitlines(), "English", "translation", lineterm=""
        )
        pytest.fail(
            f"code block {i + 1} of {_name(page)} is not (after the blocks before it) a code block of "
            f"docs/{page.name}, comments aside: the English page's code changed, or the translation's. "
            f"Against the nearest English block:\n" + "\n".join(diff)
        )


def _sections(page: Path) -> list[tuple[str, str | None]]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))  # a "## " in a code block is no heading
    return [(m["title"], m["id"]) for m in HEADING.finditer(text)]


@pytest.mark.parametrize("page", TRANSLATED, ids=_name)
def test_translated_sections_name_english_sections(page):
    from markdown.extensions.toc import slugify

    english_ids = [slugify(title, "-") for title, _ in _sections(_english_of(page))]
    for title, anchor in _sections(page):
        assert anchor, f"{_name(page)}: section {title!r} needs the id of the English section it translates"
        assert anchor in english_ids, (
            f"{_name(page)}: section {title!r} has id {anchor!r}, which is no section of "
            f"docs/{page.name} (its sections: {english_ids})"
        )


@pytest.mark.parametrize("page", TRANSLATED, ids=_name)
def test_translation_is_complete(page):
    """Reported, not failed: English sections and code blocks that the translation lacks."""
    from markdown.extensions.toc import slugify

    ids = {anchor for _, anchor in _sections(page)}
    missing = [title for title, _ in _sections(_english_of(page)) if slugify(title, "-") not in ids]
    english = [_without_comments(*b) for b in _blocks(_english_of(page))]
    translated = [_without_comments(*b) for b in _blocks(page)]
    untranslated = [code for code in english if code not in translated]
    if missing or untranslated:
        pytest.skip(
            f"{_name(page)} lags behind docs/{page.name}: sections {missing} and "
            f"{len(untranslated)} code block(s) are not translated yet"
        )


@pytest.mark.parametrize("page", ["gradient_checking.md", "zh/gradient_checking.md"])
def test_documented_outputs(page):
    out = io.StringIO()
    ns: dict = {}
    with contextlib.redirect_stdout(out):
        for lang, block in _blocks(DOCS_DIR / page):
            if lang == "python":
                exec(compile(block, page, "exec"), ns)
    text = out.getvalue()
    assert "[6. 8.]" in text and "0.3" in text
    assert "is wrong at index (1, 0)" in text and "4 of 4 elements are off" in text


def test_the_site_builds_strictly(tmp_path):
    """`make docs` builds with --strict, every language; CI builds it here (any warning fails).

    Not with ``-q``: MkDocs counts the warnings it logs, and ``-q`` logs none, so
    ``--strict -q`` passes whatever the warnings.
    """
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("mkdocs_static_i18n", reason="the docs extra is not installed")
    import json

    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    warnings = [line for line in run.stderr.splitlines() if line.startswith("WARNING")]
    assert run.returncode == 0 and not warnings, "\n".join(warnings) or run.stdout + run.stderr
    ops = (site / "ops" / "index.html").read_text()
    assert "Backward:" in ops and "sigmoid" in ops.lower()  # the formulas come from the docstrings

    assert '<html lang="en"' in (site / "index.html").read_text()
    for lang, names in TRANSLATIONS.items():
        home = (site / lang / "index.html").read_text()
        assert f'<html lang="{lang}"' in home
        for other in ["en", *TRANSLATIONS]:  # the language switch offers every language
            assert f'hreflang="{other}"' in home, f"site/{lang}/index.html has no switch to {other}"
        # by relative links, so that the site works under a sub-path and from file://
        assert '<a href="../" hreflang="en"' in home
        for name in names:
            stem = Path(name).stem
            html = (site / lang / ("" if stem == "index" else stem) / "index.html").read_text()
            title = re.search(r"^# (.+)$", (DOCS_DIR / lang / name).read_text(encoding="utf-8"), re.M)
            assert title and title[1] in html, f"site/{lang}/{stem} is not the translation"
        # a page without a translation is there in English, inside the language's site
        assert "How the engine works" in (site / lang / "engine" / "index.html").read_text()

    index = json.loads((site / "search" / "search_index.json").read_text())
    assert "\\u200b" in index["config"]["separator"]  # the word breaks jieba inserts
    zh_text = "".join(d["text"] for d in index["docs"] if d["location"].startswith("zh/"))
    assert "反向" in zh_text
    try:
        import jieba  # noqa: F401
    except ImportError:
        pass
    else:  # Chinese words are segmented, so that search finds a word inside a sentence
        assert "\u200b" in zh_text
