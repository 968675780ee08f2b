"""The documentation: README.md and docs/ (built with MkDocs, strict, in CI)."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from cbow.config import key_table
from cbow.registry import OBJECTIVES, TOKENIZERS, VECTOR_FORMATS

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"


def _hook():
    spec = importlib.util.spec_from_file_location("docs_tables", DOCS / "hooks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MARKER, TABLES, fill = _hook().MARKER, _hook().TABLES, _hook().fill


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of the project at ``root`` (mkdocs is in the test extra)."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(site)], cwd=root, capture_output=True, text=True)


def test_docs_build_strict_without_a_warning(tmp_path):
    done = build(REPO_ROOT, tmp_path / "site")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "benchmarks" / "index.html").is_file()


def test_a_broken_link_or_anchor_fails_the_build(tmp_path):
    # the build above would pass with link checking switched off: this shows it is on
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    page = tmp_path / "docs" / "data.md"
    original = page.read_text(encoding="utf-8")
    for link, named in (("no-such-page.md", "'no-such-page.md'"),
                        ("training.md#no-such-anchor", "'#no-such-anchor'")):
        page.write_text(original + f"\n[broken]({link})\n", encoding="utf-8")
        done = build(tmp_path, tmp_path / "site")
        assert done.returncode != 0, link
        assert named in done.stdout + done.stderr


def test_the_declared_tables_are_written_into_the_built_pages(tmp_path):
    # docs/hooks/tables.py writes the code's tables where a page holds their marker
    site = tmp_path / "site"
    done = build(REPO_ROOT, site)
    assert done.returncode == 0, done.stdout + done.stderr
    for table, page in ((TOKENIZERS.table(), "data"), (OBJECTIVES.table(), "training"),
                        (VECTOR_FORMATS.table(), "embeddings"), (key_table(), "training")):
        html = (site / page / "index.html").read_text(encoding="utf-8")
        first_name = table.splitlines()[2].split("|")[1].strip().strip("`")
        assert "<!-- table:" not in html and f"<code>{first_name}</code>" in html, page
    markers = {m for p in DOCS.glob("*.md") for m in MARKER.findall(p.read_text(encoding="utf-8"))}
    assert markers == set(TABLES)


def test_an_unknown_table_marker_fails_the_build():
    with pytest.raises(ValueError, match="unknown table 'glove'"):
        fill("text <!-- table: glove --> more")


def test_readme_is_a_few_screens():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= 250, f"README.md has {lines} lines; topics belong in docs/"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _headings(text: str) -> list[str]:
    """The markdown headings of ``text``, fenced code left out."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.findall(r"^#+ (.+)$", text, re.M)


def test_headings_have_the_same_anchor_on_github_and_in_the_site():
    # a link to a page's section then works in both places ("--init-from" would not: GitHub
    # keeps each hyphen, Python-Markdown joins them)
    from markdown.extensions.toc import slugify
    for page in sorted(DOCS.glob("*.md")):
        for heading in _headings(page.read_text(encoding="utf-8")):
            assert _slug(heading) == slugify(heading, "-"), f"docs/{page.name}: {heading}"


def test_readme_links_reach_files_and_headings():
    readme = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", readme)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        path, _, anchor = link.partition("#")
        target = REPO_ROOT / path if path else README
        assert target.exists(), f"README.md links to {link}, which does not exist"
        if anchor:
            headings = _headings(target.read_text(encoding="utf-8"))
            assert anchor in {_slug(h) for h in headings}, f"README.md: no heading for {link}"


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    command = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    assert f"```bash\n{command}\n```" in README.read_text(encoding="utf-8")
