"""One data-access rule, kept by reading the code (issue 20, item 3): views, forms, access
helpers and the CLI never touch the database session; repositories query and never commit;
services own the transaction (they add, delete and commit, and ask repositories for rows);
only "not found" and access are answered with abort(). The named exception: OutcomeWriter
(portal/delivery/outcomes.py) writes each relay answer with plain SQL on a connection of
its own, for speed."""
import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# Modules that answer requests or commands: a blueprint's views and forms, the admin pages,
# the access checks and the page helpers, and the command line.
EDGE = sorted({*PORTAL.glob("*/routes.py"), *PORTAL.glob("*/*_routes.py"), *PORTAL.glob("*/forms.py"),
               *PORTAL.glob("admin/*.py"), PORTAL / "filter_forms.py", PORTAL / "auth" / "access.py",
               PORTAL / "pages.py", PORTAL / "request_args.py", PORTAL / "template_helpers.py",
               PORTAL / "health.py", PORTAL / "cli.py"})
# Where queries may be built: the repositories, and the set-up of the models and the engine.
QUERY_HOMES = {PORTAL / "repositories", PORTAL / "models"}
QUERY_FILES = {PORTAL / "database.py", PORTAL / "extensions.py"}
QUERY_BUILDING = {"select", "insert", "update", "delete", "func", "text", "and_", "or_", "selectinload",
                  "joinedload", "aliased"}
QUERYING_CALLS = {"get", "scalar", "scalars", "execute", "query", "paginate", "get_or_404"}
# abort() for anything but 403 and 404 is the deployment guard's alone (a proxy it must not trust).
ABORT_ALLOWED = {PORTAL / "security.py"}


def name(path: Path) -> str:
    return str(path.relative_to(PORTAL.parent))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_edge_modules_are_found():
    assert len(EDGE) >= 20 and PORTAL / "cli.py" in EDGE and PORTAL / "sessions" / "routes.py" in EDGE


def query_problems(path: Path) -> list[str]:
    """Where a module imports query building or db, or uses db.session (catching SQLAlchemy's
    errors is allowed: sqlalchemy.exc)."""
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.startswith("sqlalchemy") and module != "sqlalchemy.exc":
                found.append(f"{path.name}:{node.lineno} imports from {module}: queries belong in portal/repositories")
            if module == "portal.extensions" and "db" in {alias.name for alias in node.names}:
                found.append(f"{path.name}:{node.lineno} imports db: call a service or a repository instead")
        if isinstance(node, ast.Attribute) and node.attr == "session" and getattr(node.value, "id", "") == "db":
            found.append(f"{path.name}:{node.lineno} uses db.session")
    return found


@pytest.mark.parametrize("path", EDGE, ids=name)
def test_views_forms_and_the_cli_neither_query_nor_touch_the_session(path):
    assert query_problems(path) == []


def service_query_problems(path: Path) -> list[str]:
    """Where a module outside the repositories builds or runs a query."""
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            building = sorted({alias.name for alias in node.names} & QUERY_BUILDING)
            if building:
                found.append(f"{path.name}:{node.lineno} imports {', '.join(building)}: a repository's job")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERYING_CALLS:
            owner = node.func.value
            via_db = getattr(owner, "id", "") == "db" or (
                isinstance(owner, ast.Attribute) and owner.attr == "session" and getattr(owner.value, "id", "") == "db")
            if via_db:
                found.append(f"{path.name}:{node.lineno} queries through db ({node.func.attr}): ask a repository")
    return found


SERVICES_AND_THE_REST = sorted(path for path in PORTAL.rglob("*.py") if path not in QUERY_FILES
                               and not any(home in path.parents for home in QUERY_HOMES))


@pytest.mark.parametrize("path", SERVICES_AND_THE_REST, ids=name)
def test_only_repositories_query(path):
    assert service_query_problems(path) == []


@pytest.mark.parametrize("path", sorted((PORTAL / "repositories").glob("*.py")), ids=name)
def test_repositories_never_commit(path):
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("commit", "rollback"):
            raise AssertionError(f"{name(path)}:{node.lineno} ends a transaction: that is the service's to do")


def test_abort_is_only_for_not_found_and_access():
    for path in sorted(PORTAL.rglob("*.py")):
        if path in ABORT_ALLOWED:
            continue
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "abort":
                status = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                assert status in (403, 404), (f"{name(path)}:{node.lineno} aborts with {status}: raise a domain "
                                              "error from portal.exceptions (DOMAIN_ERRORS gives its status)")


def test_the_rules_catch_a_view_and_a_service_that_query(tmp_path):
    """The checks above fail on the code they are meant to refuse."""
    bad = tmp_path / "routes.py"
    bad.write_text("from portal.extensions import db\nfrom sqlalchemy import select\n\n"
                   "def view():\n    return db.session.scalar(select(1))\n")
    assert [problem.split(" ")[0] for problem in query_problems(bad)] == ["routes.py:1", "routes.py:2", "routes.py:5"]
    assert [problem.split(" ")[0] for problem in service_query_problems(bad)] == ["routes.py:2", "routes.py:5"]
    fine = tmp_path / "service.py"
    fine.write_text("from sqlalchemy.exc import IntegrityError\nfrom portal.extensions import db\n\n"
                    "def save(row):\n    db.session.add(row)\n    db.session.commit()\n")
    assert service_query_problems(fine) == []
