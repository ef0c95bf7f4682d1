"""``install``, ``uninstall``, ``update``, ``outdated``, ``lock``, ``sync``, ``cache``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anya_plugins.cli import render, verify_cmd
from anya_plugins.cli.global_options import DeprecatedSpelling
from anya_plugins.cli.progress import download_progress

if TYPE_CHECKING:
    from anya_plugins.api.cache import PackageCache
    from anya_plugins.api.installer import Installer, InstallOptions, InstallReport, ProgressFactory
    from anya_plugins.install.transaction import InstallResult


def _target_options(parser: argparse.ArgumentParser, *, source: bool = True) -> None:
    parser.add_argument("--python", type=Path, default=None, help="install into this interpreter")
    if source:
        parser.add_argument(
            "--source", choices=("primary", "community", "enterprise"), default=None,
            help="where from (default: primary; for update and outdated, the source each "
            "extension was installed from)",
        )  # fmt: skip
        parser.add_argument("--org", default=None, help="the organisation of --source enterprise")


def register(commands: argparse._SubParsersAction[Any], only: str | None = None) -> None:
    """Add this module's commands; ``only``: just that one (the command being run)."""
    if only in (None, "install"):
        install = commands.add_parser("install", help="resolve, verify and install extensions")
        install.add_argument("specs", nargs="+", metavar="NAME[@VERSION][FEATURES]")
        _target_options(install)
        install.add_argument("--pre", action="store_true", help="allow pre-releases")
        install.add_argument("--dry-run", action="store_true", help="say what would change")
        install.add_argument("--upgrade", action="store_true")
        install.add_argument("--allow-downgrade", action="store_true")
        install.add_argument(
            "--allow-unsigned", action="store_true",
            help="let unsigned files in where the trust policy permits it (recorded)",
        )  # fmt: skip
        install.add_argument(
            "--allow", dest="allow_vulnerable", action="append", default=[], metavar="ADVISORY",
            help="accept this advisory (id or alias) for this install only (recorded)",
        )  # fmt: skip
        install.add_argument(
            "--switch-source", action="store_true",
            help="replace what another (non-private) source installed",
        )  # fmt: skip
        install.add_argument(
            "--save-config", "--config", dest="store_config", default=[], metavar="KEY=VALUE",
            action=DeprecatedSpelling, old="--config", new="--save-config",
            help="store a configuration value of the extension after installing (repeatable; "
            "--config is its deprecated spelling)",
        )  # fmt: skip
        install.set_defaults(handler=_reporting_interrupt(install_command, lambda a: a.specs))

    if only in (None, "uninstall"):
        uninstall = commands.add_parser("uninstall", help="remove extensions")
        uninstall.add_argument("names", nargs="+")
        _target_options(uninstall, source=False)
        uninstall.set_defaults(handler=uninstall_command)

    if only in (None, "update"):
        update = commands.add_parser("update", help="upgrade extensions")
        update.add_argument("names", nargs="*")
        update.add_argument("--all", action="store_true", dest="everything")
        update.add_argument("--dry-run", action="store_true")
        update.add_argument("--pre", action="store_true")
        update.add_argument(
            "--switch-source", action="store_true",
            help="take them from --source although another (non-private) source installed them",
        )  # fmt: skip
        _target_options(update)
        update.set_defaults(handler=_reporting_interrupt(update_command, lambda a: a.names))

    if only in (None, "outdated"):
        outdated = commands.add_parser("outdated", help="installed extensions with newer releases")
        _target_options(outdated)
        outdated.set_defaults(handler=outdated_command)

    if only in (None, "lock"):
        lock = commands.add_parser(
            "lock", help="write a lock file of the installed extensions and all they need"
        )
        lock.add_argument("path", type=Path, nargs="?", default=Path("anya.lock"))
        lock.add_argument(
            "--allow-unlocked", action="store_true",
            help="list distributions no source is known for as not reproducible, "
            "instead of failing",
        )  # fmt: skip
        _target_options(lock, source=False)
        lock.set_defaults(handler=lock_command)

    if only in (None, "sync"):
        sync = commands.add_parser("sync", help="install exactly what a lock file lists")
        sync.add_argument("path", type=Path)
        sync.add_argument("--dry-run", action="store_true")
        sync.add_argument(
            "--exact", action="store_true",
            help="also remove what the lock does not hold (not pip, setuptools, wheel, uv, "
            "anya-plugins, or what they need)",
        )  # fmt: skip
        _target_options(sync, source=False)
        sync.set_defaults(handler=_reporting_interrupt(sync_command, lambda a: [str(a.path)]))

    if only in (None, "verify"):
        verify = commands.add_parser(
            "verify", help="re-check installed files and signatures, or check any FILE's signature"
        )
        verify.add_argument("names", nargs="*", metavar="NAME | FILE")
        verify.add_argument("--all", action="store_true", dest="everything")
        _target_options(verify, source=False)
        verify_cmd.add_file_options(verify)
        verify.set_defaults(handler=verify_cmd.routed(verify_command))

    if only in (None, "cache"):
        cache = commands.add_parser("cache", help="the shared download cache")
        cache_actions = cache.add_subparsers(dest="cache_action", metavar="ACTION", required=True)
        cache_actions.add_parser("info").set_defaults(handler=cache_info_command)
        clean = cache_actions.add_parser("clean")
        clean.add_argument("--older-than-days", type=float, default=None)
        clean.set_defaults(handler=cache_clean_command)
        forget = cache_actions.add_parser(
            "forget", help="forget the newest release seen of one project (rollback protection)"
        )
        forget.add_argument("name")
        forget.set_defaults(handler=cache_forget_command)


def _reporting_interrupt(
    command: Callable[[argparse.Namespace], int],
    requested: Callable[[argparse.Namespace], list[str]],
) -> Callable[[argparse.Namespace], int]:
    """The command, saying on Ctrl-C what it left: nothing changed (exit 130), or the
    install it had completed (exit 0). See :mod:`anya_plugins.install.interruption`."""

    def handler(args: argparse.Namespace) -> int:
        _start_ahead(args)  # first: the rest of the imports overlap this work
        from anya_plugins.install.environment import TargetEnvironment
        from anya_plugins.install.interruption import HELD_BACK_NOTE, reporting_interrupt

        env = TargetEnvironment.of(args.python)
        outcome = reporting_interrupt(
            env,
            requested(args),
            lambda: command(args),
            held_back=lambda: None if args.json else render.say(HELD_BACK_NOTE),
        )
        if isinstance(outcome, int):
            return outcome
        _show_result(args, outcome)
        return 0

    return handler


def _start_ahead(args: argparse.Namespace) -> None:
    """Work the command will need, started before the rest of its imports: from the default
    source, fetching the pages the last install of the same specs read
    (:mod:`anya_plugins.sources.pages_ahead`). The process importing sigstore to verify
    signatures, started as the command began (:mod:`anya_plugins.trust.verify_process`),
    is ended when verdicts kept from earlier installs may spare it."""
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.trust.verify_process import cancel_ahead

    try:
        settings = Configuration.from_user(args.config_overrides).sources_settings()
    except Exception:  # only speed depends on it: the command itself reports what is wrong
        cancel_ahead()
        return
    if _verdicts_kept(settings.cache.dir):
        cancel_ahead()
    specs = getattr(args, "specs", None)
    if not specs or getattr(args, "source", None) or getattr(args, "org", None):
        return
    from anya_plugins.sources.pages_ahead import fetch_ahead

    fetch_ahead(settings, "primary", specs)


def _verdicts_kept(cache_dir: Path) -> bool:
    from anya_plugins.trust.verdicts import VERDICTS_DIR

    try:
        return any((cache_dir / VERDICTS_DIR).iterdir())
    except OSError:
        return False


def _check_store_config(values: list[str]) -> None:
    """``install --config`` values are KEY=VALUE: refused before anything is installed (they
    are stored after the install, which would otherwise have happened already)."""
    for item in values:
        key, equals, _value = item.partition("=")
        if not equals or not key:
            from anya_plugins.errors import UsageError

            raise UsageError(
                f"--save-config {item!r}: expected KEY=VALUE",
                hint="e.g. anya-ext install lightning --save-config port=9735 "
                "(or lightning.port=9735)",
            )


def _installer(args: argparse.Namespace, progress: ProgressFactory | None = None) -> Installer:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.installer import Installer

    configuration = Configuration.from_user(args.config_overrides)
    return Installer(configuration, python=args.python, progress=progress)


def _options(args: argparse.Namespace, **fields: Any) -> InstallOptions:
    from anya_plugins.api.configuration import Configuration
    from anya_plugins.api.installer import InstallOptions
    from anya_plugins.sources.settings import source_name

    source = getattr(args, "source", None)
    chosen = None if source is None else source_name(
        source, getattr(args, "org", None),
        lambda: Configuration.from_user(args.config_overrides).layered(),
    )  # fmt: skip
    if source is None and getattr(args, "org", None):
        chosen = source_name("primary", args.org)  # refused: --org goes with --source enterprise
    return InstallOptions(source=chosen, **fields)


def install_command(args: argparse.Namespace) -> int:
    _check_store_config(args.store_config)
    options = _options(
        args,
        prerelease=args.pre,
        dry_run=args.dry_run,
        upgrade=args.upgrade,
        allow_downgrade=args.allow_downgrade,
        allow_unsigned=args.allow_unsigned,
        allow_vulnerable=tuple(args.allow_vulnerable),
        switch_source=args.switch_source,
        extension_config=tuple(args.store_config),
    )
    with download_progress(not args.json) as progress:
        report = _installer(args, progress).install(args.specs, options)
    _show_result(args, report)
    return 0


def update_command(args: argparse.Namespace) -> int:
    options = _options(
        args, dry_run=args.dry_run, prerelease=args.pre, switch_source=args.switch_source
    )
    with download_progress(not args.json) as progress:
        report = _installer(args, progress).update(
            args.names, everything=args.everything, options=options
        )
    _show_result(args, report)
    return 0


def _show_result(args: argparse.Namespace, result: InstallReport | InstallResult) -> None:
    """An install's report, or (after Ctrl-C) the result of the install it completed."""
    if args.json:
        render.say(render.to_json(result))
        return
    if result.recovered is not None:
        render.say(
            f"recovered from an interrupted install: {result.recovered.removed} paths removed, "
            f"{result.recovered.restored} files restored"
        )
    if args.verbose:
        render.say(f"index: {result.index_url} (resolved by {result.resolver})")
    if not result.changes:
        render.say("nothing to do: everything requested is installed")
    else:
        verb = "would install" if result.dry_run else "installed"
        render.table(
            None,
            ("package", "from", "to", "file"),
            [
                (c.name, c.old_version or "-", c.new_version or "-", c.filename)
                for c in result.changes
            ],
        )
        render.say(f"{verb} {len(result.changes)} distribution(s), every file verified first")
    for note in result.notes:  # what the checks want said: advisories used, warnings
        render.say(note)


def uninstall_command(args: argparse.Namespace) -> int:
    result = _installer(args).uninstall(args.names)
    if args.json:
        render.say(render.to_json(result))
    else:
        render.say(f"removed {', '.join(result.removed)}")
    return 0


def outdated_command(args: argparse.Namespace) -> int:
    rows = _installer(args).outdated(source=_options(args).source)
    if args.json:
        render.say(render.to_json(rows))
    elif rows:
        render.table(
            None,
            ("extension", "installed", "latest", "source"),
            [(r.name, r.installed, r.latest, r.source) for r in rows],
        )
    else:
        render.say("every installed extension is up to date")
    return 0


def lock_command(args: argparse.Namespace) -> int:
    lock = _installer(args).lock(args.path, allow_unlocked=args.allow_unlocked)
    if args.json:
        render.say(render.to_json(lock))
        return 0
    render.say(f"locked {len(lock.entries)} distribution(s) in {lock.path}")
    for unlocked in lock.unlocked:
        render.say(f"not reproducible: {unlocked.name} {unlocked.version} ({unlocked.reason})")
    return 0


def sync_command(args: argparse.Namespace) -> int:
    with download_progress(not args.json) as progress:
        result = _installer(args, progress).sync(args.path, dry_run=args.dry_run, exact=args.exact)
    _show_result(args, result)
    return 0


def verify_command(args: argparse.Namespace) -> int:
    checks = _installer(args).verify_installed(args.names, everything=args.everything)
    if args.json:
        render.say(render.to_json(checks))
    else:
        render.table(
            None,
            ("extension", "version", "files", "signature"),
            [
                (c.name, c.version, "intact" if c.files_intact else "; ".join(c.findings),
                 c.signature)
                for c in checks
            ],
        )  # fmt: skip
    return 0 if all(check.ok for check in checks) else 1


def _cache(args: argparse.Namespace) -> PackageCache:
    from anya_plugins.api.cache import PackageCache
    from anya_plugins.api.configuration import Configuration

    return PackageCache(Configuration.from_user(args.config_overrides).cache())


def cache_info_command(args: argparse.Namespace) -> int:
    info = _cache(args).info()
    if args.json:
        render.say(render.to_json(info))
    else:
        render.say(
            f"{info.path}: {info.files} files, {info.pages} pages, {info.staged} staged, "
            f"{info.bytes} bytes"
        )
    return 0


def cache_forget_command(args: argparse.Namespace) -> int:
    dropped = _cache(args).forget(args.name)
    if args.json:
        render.say(render.to_json({"project": args.name, "forgotten_marks": dropped}))
    else:
        render.say(f"{args.name}: forgot {dropped} high-water mark(s)")
    return 0


def cache_clean_command(args: argparse.Namespace) -> int:
    from datetime import timedelta

    older = None if args.older_than_days is None else timedelta(days=args.older_than_days)
    freed = _cache(args).clean(older)
    if args.json:
        render.say(render.to_json({"freed_bytes": freed}))
    else:
        render.say(f"freed {freed} bytes")
    return 0
