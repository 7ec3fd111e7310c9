"""The cascade of a run as a graph: who named (or denounced) whom.

The run is read with :meth:`purgesim.results.Result.load`. Nodes are people: every arrested
person of its event table (one row per arrest), with the
attributes of their arrest, and any parent who was never arrested (``arrested = false``, no
other attributes), so that every edge has both ends. Edges go from the parent (the ``parent``
column: who named or denounced them) to the arrested person: one per event row with a parent.

GraphML is written by streaming the XML (no graph library needed, and no tree of millions of
elements in memory); it follows the GraphML schema, so networkx, igraph, Gephi and yEd read
it. Node ids are person ids as strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from purgesim.files import atomic_write
from purgesim.outputs import OutputError, refuse_run_file
from purgesim.results import Result, ResultError

NODE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    # (attribute, GraphML type)
    ("arrested", "boolean"),
    ("week", "int"),
    ("date", "string"),
    ("region", "string"),
    ("occupation", "string"),
    ("source", "string"),
    ("operation", "string"),
    ("sentence", "string"),
    ("guilty", "boolean"),
    ("generation", "int"),
    ("tortured", "boolean"),
    ("confessed", "boolean"),
    ("weight", "long"),
)
"""Node attributes. ``sentence`` is absent while pending (null in the event table);
``weight`` is the number of real people the agent stands for."""
EDGE_ATTRIBUTES: tuple[tuple[str, str], ...] = (("week", "int"), ("via", "string"))
"""Edge attributes: the week of the arrest the edge led to, and that arrest's source (how the
parent's accusation reached the NKVD: ``named``, ``denunciation``, ...)."""
GRAPH_ATTRIBUTES = ("scenario", "seed", "scale", "run_id")
BATCH_ROWS = 65_536
EVENT_COLUMNS = ["person", "parent", "week", "date", "region", "occupation", "source",
                 "operation", "sentence", "guilty", "generation", "tortured", "confessed",
                 "weight"]

GRAPHML_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')


class ExportError(ValueError):
    """The run folder does not hold what an export needs."""


def cascade_events(result: Result) -> pa.Table:
    """The columns of the run's event table that the cascade needs; refuses a table where a
    person appears twice (a node per person)."""
    table = result.events_table()
    if pc.count_distinct(table.column("person")).as_py() != table.num_rows:
        where = result.path / "events.parquet" if result.path is not None else "the event table"
        raise ExportError(f"{where}: a person appears in more than one row; allowed: one row "
                          "per arrested person, as a run writes it")
    return table.select(EVENT_COLUMNS)


def cascade_edges(events: pa.Table) -> pa.Table:
    """One row per event with a parent: ``source`` (the parent's person id), ``target`` (the
    arrested person), ``week`` of the arrest, and ``via`` (its source)."""
    has_parent = events.column("parent").is_valid()
    rows = events.filter(has_parent)
    via = rows.column("source")
    if pa.types.is_dictionary(via.type):
        via = via.cast(pa.string())
    return pa.table({
        "source": rows.column("parent").cast(pa.int64()),
        "target": rows.column("person").cast(pa.int64()),
        "week": rows.column("week").cast(pa.int32()),
        "via": via,
    })


def _value(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    return escape(str(value))


def _keys(out: IO[str], where: str, attributes: Iterable[tuple[str, str]], prefix: str) -> None:
    for i, (name, kind) in enumerate(attributes):
        out.write(f'  <key id="{prefix}{i}" for="{where}" attr.name={quoteattr(name)} '
                  f'attr.type="{kind}"/>\n')


def free_parents(events: pa.Table) -> list[int]:
    """Person ids of parents who were never arrested (not in ``person``), sorted."""
    parent = events.column("parent").drop_null()
    outside = pc.invert(pc.is_in(parent, value_set=events.column("person").combine_chunks()))
    return sorted(set(parent.filter(outside).to_pylist()))


def write_graphml(events: pa.Table, path: str | Path,
                  graph: dict[str, Any] | None = None) -> tuple[int, int]:
    """Write the cascade of ``events`` as GraphML to ``path`` (atomically); return the numbers
    of nodes and edges. Rows are converted to Python a batch at a time, so memory stays
    bounded whatever the size of the run."""
    free = free_parents(events)
    graph_data = [(k, v) for k, v in (graph or {}).items() if v is not None]
    batches = events.to_batches(max_chunksize=BATCH_ROWS)
    n_edges = 0

    def write(tmp: str) -> None:
        nonlocal n_edges
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(GRAPHML_HEADER)
            for i, (name, value) in enumerate(graph_data):
                kind = "long" if isinstance(value, int) else "string"
                out.write(f'  <key id="g{i}" for="graph" attr.name={quoteattr(name)} '
                          f'attr.type="{kind}"/>\n')
            _keys(out, "node", NODE_ATTRIBUTES, "n")
            _keys(out, "edge", EDGE_ATTRIBUTES, "e")
            out.write('  <graph id="cascade" edgedefault="directed">\n')
            for i, (_, value) in enumerate(graph_data):
                out.write(f'    <data key="g{i}">{escape(str(value))}</data>\n')
            for batch in batches:
                cols = {name: batch.column(name).to_pylist() for name in EVENT_COLUMNS}
                for row, person in enumerate(cols["person"]):
                    data = "".join(
                        f'<data key="n{i}">{_value(kind, value)}</data>'
                        for i, (name, kind) in enumerate(NODE_ATTRIBUTES)
                        if (value := True if name == "arrested" else cols[name][row])
                        is not None)
                    out.write(f'    <node id="{person}">{data}</node>\n')
            for person in free:
                out.write(f'    <node id="{person}"><data key="n0">false</data></node>\n')
            for batch in batches:
                cols = {name: batch.column(name).to_pylist()
                        for name in ("person", "parent", "week", "source")}
                for row, parent in enumerate(cols["parent"]):
                    if parent is None:
                        continue
                    n_edges += 1
                    out.write(f'    <edge source="{parent}" target="{cols["person"][row]}">'
                              f'<data key="e0">{cols["week"][row]}</data>'
                              f'<data key="e1">{escape(str(cols["source"][row]))}</data>'
                              '</edge>\n')
            out.write("  </graph>\n</graphml>\n")

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), write)
    return events.num_rows + len(free), n_edges


def export(run_dir: str | Path, graph: str | Path | None = None,
           edges: str | Path | None = None) -> dict[str, int]:
    """Export the cascade of the run in ``run_dir`` as GraphML and/or Parquet edges; return
    ``{"arrests", "nodes", "edges"}``. Neither file may be one of a run's own files."""
    try:
        for target, option in ((graph, "--graph"), (edges, "--edges")):
            if target is not None:
                refuse_run_file(Path(target), option)
        result = Result.load(run_dir)
    except (ResultError, OutputError) as exc:
        raise ExportError(str(exc)) from None
    events = cascade_events(result)
    table = cascade_edges(events)
    counts = {"arrests": events.num_rows, "nodes": 0, "edges": table.num_rows}
    if graph is not None:
        nodes, n_edges = write_graphml(events, graph,
                                       {k: result.meta.get(k) for k in GRAPH_ATTRIBUTES})
        counts["nodes"], counts["edges"] = nodes, n_edges
    else:
        counts["nodes"] = events.num_rows + len(free_parents(events))
    if edges is not None:
        Path(edges).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(edges), lambda p: pq.write_table(table, p))
    return counts
