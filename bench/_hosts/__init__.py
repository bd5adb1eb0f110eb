"""Parts of bench/hosts.py: each proxy host benchmarked in its own process, with wrk in front
and a fixed SOAP backend behind. Kept apart from the in-process benches (bench/_load.py), which
share one interpreter lock and dilute the proxy's share of the CPU."""
