"""The command line of the development stack, and the order everything stops in."""

from __future__ import annotations

import atexit
import signal
import sys

from credit_portal import runenv
from devtools.devstack.bench import bench
from devtools.devstack.config import Config, Failure, say
from devtools.devstack.processes import Stop, begin_shutdown, install_signal_handlers, stop_children
from devtools.devstack.run import run
from devtools.devstack.services import Services
from devtools.devstack.system_packages import preflight
from devtools.devstack.test import test


def shutdown(services: Services) -> None:
    """Stop the children, then the services. Idempotent; also the atexit safety net."""
    begin_shutdown()
    stop_children()
    # What the commands beside `make run` read points at what stops now.
    runenv.remove()
    services.stop()


USAGE = (
    "usage: python -m devtools.devstack run [--demo | --no-demo] | test [pytest arguments ...]"
    " | bench [bench arguments ...]"
)
DEMO_OPTIONS = {"--demo": True, "--no-demo": False}


def main(argv: list[str]) -> int:
    run_options = argv[1:] if argv[:1] == ["run"] else []
    if (
        not argv
        or argv[0] not in ("run", "test", "bench")
        or len(run_options) > 1
        or any(option not in DEMO_OPTIONS for option in run_options)
    ):
        print(USAGE, file=sys.stderr)
        return 2
    mode = argv[0]
    install_signal_handlers()
    services = Services()
    atexit.register(shutdown, services)
    try:
        config = Config()
        preflight(mode)
        if mode == "run":
            return run(config, services, demo=DEMO_OPTIONS[run_options[0]] if run_options else None)
        if mode == "bench":
            return bench(config, services, argv[1:])
        return test(config, services, argv[1:])
    except Stop as stop:
        say(f"stopping ({stop}) ...")
        return 0 if mode == "run" and stop.signum in (signal.SIGINT, signal.SIGTERM) else 128 + stop.signum
    except Failure as failure:
        say(f"ERROR: {failure}")
        return 1
    finally:
        shutdown(services)
