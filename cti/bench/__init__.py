"""The routing benchmark behind ``make bench``: product figures beside bare ceilings, one run."""

from cti.bench.runner import run_bench

__all__ = ["run_bench"]
