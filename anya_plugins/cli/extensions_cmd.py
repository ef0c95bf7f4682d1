"""Commands about installed extensions: list, info, enable, disable, doctor, new, and theirs."""

from __future__ import annotations

import argparse

from anya_plugins.cli import render

TYPE_CHECKING = False  # typing and pathlib cost ``list``'s start-up ~10 ms
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

    from anya_plugins.host.host import Host
    from anya_plugins.host.inventory import ExtensionReport
    from anya_plugins.host.record import Extension


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "list"):
        listing = commands.add_parser("list", help="installed extensions and their status")
        listing.add_argument(
            "--no-load", action="store_true", help="do not import extensions (discovery only)"
        )
        listing.set_defaults(handler=list_command)

    if only in (None, "info"):
        info = commands.add_parser("info", help="everything about one extension")
        info.add_argument("name")
        info.add_argument("--no-load", action="store_true", help="do not import the extension")
        info.add_argument(
            "--remote", action="store_true",
            help="ask the index (versions, features, platforms); the default when not installed",
        )  # fmt: skip
        info.add_argument(
            "--source", choices=("primary", "community", "enterprise"), default="primary"
        )
        info.add_argument("--org", default=None)
        info.set_defaults(handler=info_command)

    for verb, enabled in (("enable", True), ("disable", False)):
        if only in (None, verb):
            toggle = commands.add_parser(
                verb, help=f"{verb} an extension in the user configuration"
            )
            toggle.add_argument("name")
            toggle.set_defaults(handler=toggle_command, enabled=enabled)

    if only in (None, "doctor"):
        doctor = commands.add_parser("doctor", help="check the environment and every extension")
        doctor.set_defaults(handler=doctor_command)

    if only in (None, "new"):
        new = commands.add_parser("new", help="create a new extension project from the template")
        new.add_argument("name")
        new.add_argument("--category", required=True)
        new.add_argument("--output-dir", type=_path, default=".")
        new.add_argument("--description", default="An Anya extension.")
        new.add_argument("--features", default="metrics", help="comma-separated extras")
        new.add_argument("--default-features", default="", help="comma-separated extras")
        new.add_argument("--author", default="Anya Developer", help="the project's author")
        new.add_argument("--email", default="dev@example.org", help="the author's e-mail")
        new.add_argument(
            "--dependency", dest="dependencies", action="append", default=[], metavar="REQUIREMENT",
            help="a requirement besides anya-plugins, e.g. 'httpx>=0.27' (repeatable)",
        )  # fmt: skip
        new.add_argument(
            "--platform", dest="compiled", action="store_true",
            help="with compiled parts: a C extension module, platform wheels built with "
            "cibuildwheel in the release workflow",
        )  # fmt: skip
        new.set_defaults(handler=new_command)


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def make_host(args: argparse.Namespace) -> Host:
    from anya_plugins.host.host import Host

    return Host(config_overrides=args.config_overrides)


def installed_with(
    host: Host, extensions: Iterable[Extension] | None = None
) -> dict[str, tuple[str, ...]]:
    """The features each of ``extensions`` (all of the host's by default) was installed with
    (its receipt, if it is still the version installed), for the features column of
    ``list`` and ``info``: read for the ones that have features (the column of any other is
    empty)."""
    import os
    import sys

    from anya_plugins.host.integrity import RECEIPTS_DIR
    from anya_plugins.metadata.names import canonical

    directory = os.path.join(sys.prefix, RECEIPTS_DIR)  # noqa: PTH118
    if not os.path.isdir(directory):  # noqa: PTH112
        return {}  # nothing here was installed by Anya: spare loading the installer
    from anya_plugins.install.recorded_features import recorded_features

    chosen = host.extensions if extensions is None else extensions
    versions = {canonical(e.dist_name): e.version for e in chosen if e.features}
    return recorded_features(directory, versions)


def list_command(args: argparse.Namespace) -> int:
    from anya_plugins.host.inventory import list_extensions

    host = make_host(args)
    reports = list_extensions(host, load=not args.no_load, recorded=installed_with(host))
    if args.json:
        render.say(render.to_json(reports))
        return 0
    render.table(
        None,
        ("name", "version", "category", "features", "status", "detail"),
        [
            (r.name, r.version, r.category, ",".join(r.enabled_features), _status(r), r.error)
            for r in reports
        ],
    )
    return 0


def _status(report: ExtensionReport) -> str:
    """The status, and that the files are not known to be what was verified, when so."""
    from anya_plugins.host.integrity import UNVERIFIED

    if report.integrity == UNVERIFIED and report.status != UNVERIFIED:
        return f"{report.status} (unverified)"
    return report.status


def info_command(args: argparse.Namespace) -> int:
    from anya_plugins.cli.search_cmd import remote_info_command
    from anya_plugins.errors import ExtensionNotFound
    from anya_plugins.host.inventory import extension_info

    if args.remote:
        return remote_info_command(args)
    try:
        host = make_host(args)
        recorded = installed_with(host, (host.get(args.name),))  # its receipt, not every one
        report = extension_info(host, args.name, load=not args.no_load, recorded=recorded)
    except ExtensionNotFound as missing:
        from anya_plugins.sources.errors import SourceError

        try:
            return remote_info_command(args)
        except SourceError as remote:
            raise ExtensionNotFound(
                missing.message, hint=f"{missing.hint}; not on the index either ({remote.message})"
            ) from remote
    if args.json:
        render.say(render.to_json(report))
        return 0
    features = ", ".join(
        f"{f.name}{' (default)' if f.default else ''}{' [on]' if f.enabled else ''}"
        + (f" -> {'+'.join(f.enables)}" if f.enables else "")
        for f in report.features
    )
    rows = [
        ("name", report.name),
        ("distribution", f"{report.distribution} {report.version}"),
        ("summary", report.summary),
        ("category", report.category),
        ("status", _status(report)),
        ("features", features or "-"),
        ("platforms", ", ".join(report.platforms) or "built locally"),
        ("host API", report.host_api),
        ("entry point", report.entry_point),
        ("location", report.location),
    ]
    if report.error:
        rows.append(("error", report.error))
    render.table(None, ("field", "value"), rows)
    if report.traceback:
        render.say(report.traceback)
    return 0


def toggle_command(args: argparse.Namespace) -> int:
    from anya_plugins.api.configuration import Configuration

    host = make_host(args)
    extension = host.get(args.name)
    configuration = Configuration.from_user(args.config_overrides, file=_path(host.config_path))
    changed = configuration.set_disabled(extension.name, disabled=not args.enabled)
    state = "enabled" if args.enabled else "disabled"
    result = {"name": extension.name, "state": state, "changed": changed}
    if args.json:
        render.say(render.to_json(result))
    else:
        render.say(f"{extension.name} {state}" + ("" if changed else " (no change)"))
    return 0


def doctor_command(args: argparse.Namespace) -> int:
    from anya_plugins.host.inventory import doctor

    report = doctor(make_host(args))
    if args.json:
        render.say(render.to_json({"ok": report.ok, "checks": report.checks}))
    else:
        render.table(
            None,
            ("check", "result", "detail"),
            [(c.subject, "ok" if c.ok else "FAIL", c.detail) for c in report.checks],
        )
        for check in report.checks:
            if check.traceback:
                render.say(f"--- {check.subject}\n{check.traceback}")
    return 0 if report.ok else 1


def new_command(args: argparse.Namespace) -> int:
    from anya_plugins.authoring.new import new_extension

    project = new_extension(
        args.name,
        args.category,
        output_dir=args.output_dir,
        description=args.description,
        features=_split(args.features),
        default_features=_split(args.default_features),
        author=args.author,
        email=args.email,
        dependencies=tuple(args.dependencies),
        compiled=args.compiled,
    )
    if args.json:
        render.say(render.to_json(project))
    else:
        render.say(f"created {project.distribution} ({project.category}) in {project.path}")
    return 0


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
