"""The catalogue agrees, row by row, with Huawei's permission tables.

The authority is the Chinese HTML table `000_47634986cf5b2380.txt` (IMS API reference, appendix
"permissions and supported actions: image management"); the other IMS tables are checked against
`ims-more-tables.md`. Both are copies in `tests/fixtures/` (the README there names the sources;
test_fixtures.py keeps them equal to `../shared/spec/`), and both are parsed here: the
expectations come from the sources, not from this file. What this file does hold is the join key
from the sources' variant wording to operation IDs (e.g. "（仅企业项目迁移需要）" = only for the
enterprise-project migration variant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import FIXTURES

from iac_ims.catalog import Catalog, Operation, load_catalog

SOURCE = FIXTURES / "000_47634986cf5b2380.txt"
MORE_TABLES = FIXTURES / "ims-more-tables.md"

# Variant wording in the Chinese source -> the operation ID of that variant. A phrase found in an
# action's "（仅…需要）" qualifier or in a row's note picks the variant(s) it applies to.
VARIANT_PHRASES = {
    "企业项目迁移": "migrate_image_enterprise_project",  # only for moving to another enterprise project
    "快速导入系统盘": "quick_import_system_image",  # only for quick-importing a system-disk image
    "快速导入数据盘": "quick_import_data_image",  # only for quick-importing a data-disk image
    "外部文件制作镜像": "create_image_from_file",  # creating an image from an external file
}
# Services named in the notes -> catalogue service names.
NOTE_SERVICES = {"对象存储服务": "obs", "云服务器备份服务": "csbs", "云备份服务": "cbr"}
DEPRECATED_MARK = "已废弃"
NO_ACTION = "无"
SUPPORTED = {"√": True, "x": False, "×": False}


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


# ==================================================================== the Chinese HTML table


@dataclass
class Cell:
    text: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    note: list[str] = field(default_factory=list)

    @property
    def plain(self) -> str:
        return "".join(self.text).strip()

    @property
    def note_text(self) -> str:
        return "".join(self.note).strip()


class PermissionTableParser(HTMLParser):
    """Header texts and body rows of the table; each body cell keeps its plain text, its list items
    (`<li>`) and the text of its note (`<div class="note">`, without the "说明：" title)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self.rows: list[list[Cell]] = []
        self._section: str | None = None  # "thead" | "tbody"
        self._header: list[str] | None = None
        self._cell: Cell | None = None
        self._div_depth = 0
        self._note_depth: int | None = None
        self._item: list[str] | None = None
        self._in_note_title = False

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "th" and self._section == "thead":
            self._header = []
        elif tag == "tr" and self._section == "tbody":
            self.rows.append([])
        elif tag == "td" and self._section == "tbody":
            self._cell = Cell()
            self.rows[-1].append(self._cell)
        elif tag == "div" and self._cell is not None:
            self._div_depth += 1
            if "note" in classes and self._note_depth is None:
                self._note_depth = self._div_depth
        elif tag == "span" and "notetitle" in classes:
            self._in_note_title = True
        elif tag == "li" and self._cell is not None:
            self._item = []

    def handle_endtag(self, tag):
        if tag in ("thead", "tbody"):
            self._section = None
        elif tag == "th" and self._header is not None:
            self.headers.append("".join(self._header).strip())
            self._header = None
        elif tag == "td":
            self._cell = None
        elif tag == "div" and self._cell is not None:
            if self._note_depth == self._div_depth:
                self._note_depth = None
            self._div_depth -= 1
        elif tag == "span":
            self._in_note_title = False
        elif tag == "li" and self._item is not None and self._cell is not None:
            self._cell.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data):
        if self._header is not None:
            self._header.append(data)
        if self._cell is None or self._in_note_title:
            return
        if self._note_depth is not None:
            self._cell.note.append(data)
        elif self._item is not None:
            self._item.append(data)
        else:
            self._cell.text.append(data)


@dataclass
class SourceRow:
    number: int
    name: str
    method: str
    path: str
    actions: list[tuple[str, str | None]]  # (action, variant qualifier or None)
    project: bool
    enterprise_project: bool
    note: str

    @property
    def deprecated(self) -> bool:
        return DEPRECATED_MARK in self.name


def _column(headers: list[str], *needles: str, avoid: str | None = None) -> int:
    for i, header in enumerate(headers):
        if all(n in header for n in needles) and not (avoid and avoid in header):
            return i
    raise AssertionError(f"no column with {needles} in {headers}")


def _split_action(item: str) -> tuple[str, str | None]:
    """`ims:serverImages:create（仅企业项目迁移需要）` -> (action, qualifier)."""
    m = re.fullmatch(r"\s*([^\s（(]+)\s*(?:[（(](.*?)[）)])?\s*", item)
    assert m, f"cannot read action {item!r}"
    return m.group(1), m.group(2)


def _supported(cell: Cell) -> bool:
    mark = cell.plain
    assert mark in SUPPORTED, f"unexpected mark {mark!r}"
    return SUPPORTED[mark]


def parse_source(path: Path) -> list[SourceRow]:
    parser = PermissionTableParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    h = parser.headers
    c_name = 0
    c_api = _column(h, "API")
    c_actions = _column(h, "Action")
    c_project = _column(h, "Project", avoid="Enterprise")
    c_ep = _column(h, "Enterprise Project")
    rows = []
    for number, cells in enumerate(parser.rows, start=1):
        assert len(cells) == len(h), f"row {number}: {len(cells)} cells for {len(h)} columns"
        method, _, api_path = cells[c_api].plain.partition(" ")
        action_cell = cells[c_actions]
        raw_actions = action_cell.items or ([] if action_cell.plain == NO_ACTION else [action_cell.plain])
        rows.append(
            SourceRow(
                number=number,
                name=cells[c_name].plain,
                method=method.strip(),
                path=api_path.strip(),
                actions=[_split_action(a) for a in raw_actions],
                project=_supported(cells[c_project]),
                enterprise_project=_supported(cells[c_ep]),
                note="".join(cell.note_text for cell in cells),
            )
        )
    return rows


def _variant_ids(text: str) -> set[str]:
    return {op_id for phrase, op_id in VARIANT_PHRASES.items() if phrase in text}


SOURCE_ROWS = parse_source(SOURCE)
ROW_PARAMS = [pytest.param(row, id=f"row{row.number:02d}") for row in SOURCE_ROWS]


def _row_operations(cat: Catalog, table: str, number: int) -> list[Operation]:
    return [op for op in cat.operations.values() if op.table == table and op.row == number]


def test_source_parsed_and_rows_cover_the_catalogue(cat):
    assert len(SOURCE_ROWS) >= 18
    catalogued = sorted({op.row for op in cat.operations.values() if op.table == "image_management"})
    assert catalogued == list(range(1, len(SOURCE_ROWS) + 1))


@pytest.mark.parametrize("row", ROW_PARAMS)
def test_row_matches_catalogue(cat, row: SourceRow):
    ops = _row_operations(cat, "image_management", row.number)
    assert ops, f"row {row.number} ({row.name}) has no operation in the catalogue"
    ids = {op.id for op in ops}

    # --- which operations (variants) the row becomes
    common = [a for a, qualifier in row.actions if qualifier is None]
    action_variants: dict[str, list[str]] = {}
    for action, qualifier in row.actions:
        if qualifier is not None:
            named = _variant_ids(qualifier)
            assert len(named) == 1, f"row {row.number}: qualifier {qualifier!r} names no single variant"
            action_variants.setdefault(named.pop(), []).append(action)
    note_variants = _variant_ids(row.note)
    variants = set(action_variants) | note_variants
    assert variants <= ids, f"row {row.number}: variants {variants - ids} missing from the catalogue"
    has_base = not action_variants or bool(common)
    assert len(ids) == len(variants) + (1 if has_base else 0), f"row {row.number}: unexpected operations {ids}"

    for op in ops:
        # --- API
        assert (op.method, op.path) == (row.method, row.path), op.id
        # --- actions: all those without a qualifier, plus this variant's own
        expected = common + action_variants.get(op.id, [])
        assert sorted(op.actions) == sorted(expected), op.id
        assert len(set(op.actions)) == len(op.actions), op.id
        # --- grantable scopes
        assert op.project is row.project, op.id
        assert op.enterprise_project is row.enterprise_project, op.id
        # --- deprecation
        assert op.deprecated is row.deprecated, op.id
        if row.deprecated:
            replacement = cat.operation(op.replacement) if op.replacement else None
            assert replacement is not None, f"{op.id}: deprecated without a replacement"
            assert not replacement.deprecated
            assert sorted(replacement.actions) == sorted(op.actions)
        else:
            assert op.replacement is None, op.id


@pytest.mark.parametrize("row", ROW_PARAMS)
def test_row_prerequisites(cat, row: SourceRow):
    ops = _row_operations(cat, "image_management", row.number)
    if not row.note:
        for op in ops:
            assert op.prerequisites == (), f"{op.id}: prerequisites the source does not give"
        return

    roles = re.findall(r"[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*", row.note)
    services = {svc for name, svc in NOTE_SERVICES.items() if name in row.note}
    assert roles, f"row {row.number}: no role named in note {row.note!r}"
    assert services, f"row {row.number}: no service named in note {row.note!r}"
    # A note about one kind of request applies to that variant only; otherwise to the whole row.
    applies_to = _variant_ids(row.note) or {op.id for op in ops}

    wanted = {cat.system_role(name) for name in roles}
    assert None not in wanted, f"row {row.number}: {roles} not all known system roles"
    for op in ops:
        if op.id not in applies_to:
            assert op.prerequisites == (), f"{op.id}: the note does not apply to this variant"
            continue
        assert len(op.prerequisites) == 1, op.id
        prereq = op.prerequisites[0]
        assert prereq.service in services, op.id
        # the source's names are listed as written, and every alternative is one of them (by any name)
        assert set(roles) <= set(prereq.any_of), op.id
        assert {cat.system_role(name) for name in prereq.any_of} == wanted, op.id


# ==================================================================== ims-more-tables.md

SECTION_TABLES = {
    "Image tags": "tags",
    "Image schemas": "schemas",
    "Image sharing": "sharing",
    "Image replication": "replication",
    "Quota": "quota",
}
# Variant wording in ims-more-tables.md -> operation ID.
MD_VARIANT_PHRASES = {"enterprise projects enabled": "copy_image_in_region_enterprise_project"}
ACTION_RE = re.compile(r"\b[a-z]+:[A-Za-z]+:[A-Za-z]+\b")
API_RE = re.compile(r"\b(GET|HEAD|POST|PUT|PATCH|DELETE) (/[^\s,|—]*)")
SCOPES_RE = re.compile(r"project (√|x), enterprise project (√|x)")


@dataclass
class MdRow:
    table: str
    number: int
    method: str
    path: str
    actions: list[str]
    variants: dict[str, list[str]]
    project: bool
    enterprise_project: bool


def _md_actions(text: str) -> tuple[list[str], dict[str, list[str]]]:
    base: list[str] = []
    variants: dict[str, list[str]] = {}
    for part in text.split(";"):
        named = [op_id for phrase, op_id in MD_VARIANT_PHRASES.items() if phrase in part]
        if "only" in part:
            assert len(named) == 1, f"cannot tell the variant of {part!r}"
            variants.setdefault(named[0], []).extend(ACTION_RE.findall(part))
        else:
            base.extend(ACTION_RE.findall(part))
    return base, variants


def parse_more_tables(path: Path) -> tuple[list[MdRow], set[str]]:
    rows: list[MdRow] = []
    known_actions: set[str] = set()
    table: str | None = None
    default_scopes: tuple[bool, bool] | None = None
    columns: list[str] | None = None
    counters: dict[str, int] = {}

    def add(method, api_path, actions, variants, scopes):
        counters[table] = counters.get(table, 0) + 1
        rows.append(MdRow(table, counters[table], method, api_path, actions, variants, *scopes))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:]
            table = next((t for title, t in SECTION_TABLES.items() if heading.startswith(title)), None)
            m = SCOPES_RE.search(heading)
            default_scopes = (SUPPORTED[m.group(1)], SUPPORTED[m.group(2)]) if m else None
            columns = None
            if heading.startswith("Action names"):
                table = "__actions__"
            continue
        if table == "__actions__":
            for token in re.findall(r"`([^`]+)`", line):
                m = re.fullmatch(r"([a-z]+:[A-Za-z]+:)\{([a-z,]+)\}", token)
                if m:
                    known_actions.update(m.group(1) + op for op in m.group(2).split(","))
                elif ACTION_RE.fullmatch(token):
                    known_actions.add(token)
            continue
        if table is None:
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if columns is None:
                columns = cells
                continue
            if set("".join(cells)) <= set("-: "):
                continue
            record = dict(zip(columns, cells))
            api = API_RE.search(record["API"])
            base, variants = _md_actions(record["Actions"])
            if "Project" in record:
                scopes = (SUPPORTED[record["Project"][0]], SUPPORTED[record["EP"][0]])
            else:
                scopes = default_scopes
            add(api.group(1), api.group(2), base, variants, scopes)
            continue
        apis = API_RE.findall(line)
        if apis:  # a prose line: "GET /a, GET /b." or "GET /q — action — project √, enterprise project √."
            m = SCOPES_RE.search(line)
            scopes = (SUPPORTED[m.group(1)], SUPPORTED[m.group(2)]) if m else default_scopes
            actions = ACTION_RE.findall(API_RE.sub("", line))
            for method, api_path in apis:
                add(method, api_path.rstrip("."), actions, {}, scopes)
    return rows, known_actions


MD_ROWS, MD_ACTIONS = parse_more_tables(MORE_TABLES)
MD_PARAMS = [pytest.param(r, id=f"{r.table}-row{r.number:02d}") for r in MD_ROWS]


def test_more_tables_cover_the_catalogue(cat):
    assert {r.table for r in MD_ROWS} == set(SECTION_TABLES.values())
    for table in SECTION_TABLES.values():
        in_source = sorted(r.number for r in MD_ROWS if r.table == table)
        catalogued = sorted({op.row for op in cat.operations.values() if op.table == table})
        assert catalogued == in_source, table


def test_known_actions_match_the_list(cat):
    assert MD_ACTIONS
    assert set(cat.actions) == MD_ACTIONS


@pytest.mark.parametrize("row", MD_PARAMS)
def test_more_table_row(cat, row: MdRow):
    ops = _row_operations(cat, row.table, row.number)
    assert ops, f"{row.table} row {row.number} has no operation"
    ids = {op.id for op in ops}
    assert set(row.variants) <= ids
    assert len(ids) == 1 + len(row.variants)
    for op in ops:
        assert (op.method, op.path) == (row.method, row.path), op.id
        assert sorted(op.actions) == sorted(row.actions + row.variants.get(op.id, [])), op.id
        assert (op.project, op.enterprise_project) == (row.project, row.enterprise_project), op.id
        assert not op.deprecated
