"""The docs a newcomer relies on tell the truth: every setting's variable is documented, links resolve."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""(?:env_[a-z_]+|os\.environ\.get|os\.environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _variables_read_by_the_settings() -> set[str]:
    return {name for path in (ROOT / "crm" / "settings").glob("*.py") for name in ENV_READ.findall(path.read_text())}


def test_every_environment_variable_the_settings_read_is_documented():
    documented = (ROOT / "docs" / "operations.md").read_text()
    variables = _variables_read_by_the_settings()

    assert len(variables) >= 55, sorted(variables)  # the pattern still finds what the settings read
    missing = sorted(name for name in variables if f"`{name}`" not in documented)
    assert not missing, f"docs/operations.md does not document {missing}"


def test_the_proxy_and_session_variables_say_what_they_do():
    documented = (ROOT / "docs" / "operations.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in documented.splitlines() if line.startswith("| `")}

    assert "behind a TLS proxy" in rows["`TRUST_X_FORWARDED_PROTO`"]
    assert "| `30` |" in rows["`SESSION_IDLE_TIMEOUT_MINUTES`"]
    assert "| `12` |" in rows["`SESSION_MAX_AGE_HOURS`"]


def test_the_readme_links_every_documentation_page_and_keeps_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    pages = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").rglob("*.md"))

    assert len(pages) >= 14
    unlinked = [page for page in pages if f"]({page}" not in readme]
    assert not unlinked, f"README.md does not link {unlinked}"
    assert "## Channels" in readme
    assert "make run    # Relais at http://127.0.0.1:8000 with demo data; Ctrl-C stops everything\n" in readme
    assert "make test   # the whole test suite\n" in readme


def test_links_in_the_readme_and_docs_point_at_files_of_the_repository():
    broken = []
    for page in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:", "/")):
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_architecture_page_stands_on_its_own():
    text = (ROOT / "docs" / "architecture.md").read_text()

    assert "../shared" not in text and "DESIGN.md" not in text and "STYLE.md" not in text
