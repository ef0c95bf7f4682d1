"""Monthly reporting, scheduled: a systemd service and timer (or a crontab line) that run
``anya-ext compliance send --period previous`` for each standard on the 1st of the month."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

UNIT_NAME: Final = "anya-compliance-report"
ON_CALENDAR: Final = "*-*-01 06:00:00"
CRON_TIME: Final = "0 6 1 * *"


@dataclass(frozen=True)
class ScheduleUnits:
    service_name: str
    service: str
    timer_name: str
    timer: str
    cron: str
    written: tuple[str, ...] = ()
    """The unit files written (none for a dry run)."""


def schedule_units(
    standards: Sequence[str],
    *,
    command: Sequence[str] = ("anya-ext",),
    send_options: Sequence[str] = (),
    environment_file: str | None = None,
    on_calendar: str = ON_CALENDAR,
) -> ScheduleUnits:
    """The unit texts; ``send_options`` are added to each ``compliance send`` (policy, trail,
    SMTP...); secrets go in ``environment_file`` (``ANYA_SMTP_PASSWORD``, ...), not here."""
    runs = [
        shlex.join([*command, "compliance", "send", "--standard", standard,
                    "--period", "previous", *send_options])
        for standard in standards
    ]  # fmt: skip
    environment = f"EnvironmentFile={environment_file}\n" if environment_file else ""
    service = (
        "[Unit]\n"
        "Description=Anya Extensions monthly compliance report\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\n"
        f"{environment}" + "".join(f"ExecStart={run}\n" for run in runs)
    )
    timer = (
        "[Unit]\n"
        "Description=Monthly Anya Extensions compliance report\n\n"
        f"[Timer]\nOnCalendar={on_calendar}\nPersistent=true\n"
        f"Unit={UNIT_NAME}.service\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    cron = "".join(f"{CRON_TIME} {run}\n" for run in runs)
    return ScheduleUnits(f"{UNIT_NAME}.service", service, f"{UNIT_NAME}.timer", timer, cron)


def write_units(units: ScheduleUnits, directory: Path) -> ScheduleUnits:
    """Write the service and timer into ``directory`` (e.g. ``~/.config/systemd/user``)."""
    from anya_plugins.config.atomic import write_atomic

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in ((units.service_name, units.service), (units.timer_name, units.timer)):
        write_atomic(directory / name, text)
        written.append(str(directory / name))
    return ScheduleUnits(
        units.service_name, units.service, units.timer_name, units.timer, units.cron,
        tuple(written),
    )  # fmt: skip
