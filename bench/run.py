"""`make bench`: every benchmark, each against a floor measured in the same run.

    python -m bench.run            # small sizes, a few minutes
    python -m bench.run --full     # the sizes of the issue (10,000 students, 2,000 emails, …)
"""
import argparse
import logging
import os
import platform


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full sizes (slower)")
    parser.add_argument("--only", help="run only benchmarks whose name contains this")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the pipeline's info lines would drown the figures

    from bench import (
        bench_delivery,
        bench_end_to_end,
        bench_generation,
        bench_morning_rush,
        bench_pages,
        bench_register,
        bench_relay,
        bench_relays,
        bench_scaleout,
    )

    sizes = {"students": 10_000 if args.full else 2_000, "emails": 2_000 if args.full else 500,
             "slow_emails": 400 if args.full else 240, "rows": 10_000 if args.full else 2_000,
             "relay_emails": 1_000 if args.full else 500, "rate_emails": 200 if args.full else 100}
    print(f"# Benchmarks ({'full' if args.full else 'small'} sizes) on {platform.node()}: "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    results = []
    suites = [
        ("generation", lambda: bench_generation.run(sizes["students"])),
        ("relay", lambda: bench_relay.run(sizes["relay_emails"], sizes["rate_emails"])),
        ("two relays", lambda: bench_relays.run(sizes["relay_emails"])),
        ("morning rush", lambda: bench_morning_rush.run()),
        ("delivery", lambda: bench_delivery.run(sizes["emails"])),
        ("scale-out", lambda: bench_scaleout.run(sizes["slow_emails"])),
        ("pages", lambda: bench_pages.run(sizes["rows"])),
        ("register", lambda: bench_register.run(500, 40)),
        ("end-to-end", lambda: bench_end_to_end.run(1_000)),
    ]
    for name, suite in suites:
        if args.only and args.only not in name:
            continue
        results += suite()

    print("\n## Summary")
    for result in results:
        ok = result["ratio"] <= result["target"] if result["lower_is_better"] else result["ratio"] >= result["target"]
        sign = "≤" if result["lower_is_better"] else "≥"
        print(f"  {'PASS' if ok else 'MISS'}  {result['name']}: {result['ratio']:.2f} (target {sign} {result['target']})")


if __name__ == "__main__":
    main()
