"""``gongkai report annual``: the statutory annual report (条例 Art. 49-50), from the log alone.

Read as the read-only ``auditor`` user, one batch at a time (logreader.py); only the few facts
per case the report needs are kept. ``--at`` computes the report at an earlier log position:
the same position always gives the same numbers.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from gongkai_shared.annual_report import fold
from gongkai_shared.annual_report_render import render

from .. import connections
from ..logreader import read_log
from ..settings import CliError, CliSettings

FORMATS = ("json", "html", "xlsx")


async def annual(settings: CliSettings, args: Namespace) -> int:
    if not 1990 <= args.year <= 2999:
        raise CliError(f"--year {args.year}: a calendar year between 1990 and 2999")
    if not args.agency.strip():
        raise CliError("--agency: the name of the agency the report is for")
    fmt = args.format or (args.output.suffix.lstrip(".") if args.output else "json")
    if fmt not in FORMATS:
        raise CliError(f"format {fmt!r}: one of {', '.join(FORMATS)} (--format, or the output's suffix)")
    if fmt == "xlsx" and args.output is None:
        raise CliError("an XLSX report needs --output FILE")
    store = await connections.store(settings)
    try:
        last = await store.last_seq()
        at = last if args.at is None else args.at
        if not 0 <= at <= last:
            raise CliError(f"--at {at}: the log ends at {last}")
        report = await fold(read_log(store, 1, at), at) if at else await fold(_nothing(), 0)
    finally:
        await store.nc.close()
    data = report.result(args.year, agency=args.agency.strip())
    out = render(data, fmt)
    if args.output is None:
        sys.stdout.write(out.decode())
    else:
        path: Path = args.output
        path.write_bytes(out)
        print(f"{args.year} annual report of {data['agency']} at log position {data['log_position']}: {path}")
    if not data["check"]["holds"]:
        for b in data["check"]["breaches"]:
            print(
                f"gongkai: check 一 + 二 = 三（七）+ 四 fails: case {b['case_id']}: {b['problem']}",
                file=sys.stderr,
            )
        return 1
    return 0


async def _nothing():  # noqa: ANN202
    return
    yield
