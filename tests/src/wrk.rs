//! Runs wrk (Debian's `wrk`, a real HTTP load tool written in C) against a URL and reads its
//! summary, for side-by-side rates of the server's endpoints in one run.

use std::process::Command;

use anyhow::{Context, bail};

#[derive(Debug, Clone, PartialEq)]
pub struct WrkRun {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers that were not 2xx/3xx, and socket errors.
    pub failures: u64,
}

/// `connections` open connections over `threads` wrk threads for `seconds`, with `headers`.
pub fn run(url: &str, headers: &[String], threads: usize, connections: usize, seconds: u64) -> anyhow::Result<WrkRun> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t", &threads.to_string(), "-c", &connections.to_string(), "-d", &format!("{seconds}s"), "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().context("wrk is not installed (apt-get install wrk)")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// wrk's text summary: `Requests/sec:`, the `--latency` percentiles, and the error lines.
pub fn parse(text: &str) -> anyhow::Result<WrkRun> {
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(str::trim));
    let requests_per_sec: f64 = field("Requests/sec:").context("no Requests/sec in wrk's output")?.parse()?;
    let percentile =
        |p: &str| -> anyhow::Result<f64> { duration_ms(field(p).with_context(|| format!("no {p} latency"))?) };
    let mut failures = 0;
    if let Some(non2xx) = field("Non-2xx or 3xx responses:") {
        failures += non2xx.parse::<u64>()?;
    }
    if let Some(errors) = field("Socket errors:") {
        // connect 0, read 0, write 0, timeout 0
        failures += errors.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok()).sum::<u64>();
    }
    Ok(WrkRun { requests_per_sec, p50_ms: percentile("50%")?, p99_ms: percentile("99%")?, failures })
}

fn duration_ms(s: &str) -> anyhow::Result<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).context("a duration without unit")?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse()?;
    Ok(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        other => bail!("unknown unit {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrks_summary() {
        let text = "Running 5s test @ http://127.0.0.1:1/healthz\n  2 threads and 64 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   791.12us    1.02ms  21.53ms   91.37%\n    Req/Sec    42.11k     3.20k   48.90k    70.00%\n  Latency Distribution\n     50%  512.00us\n     75%  0.90ms\n     90%    1.50ms\n     99%    5.21ms\n  419263 requests in 5.00s, 61.18MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec:  83830.21\nTransfer/sec:     12.23MB\n";
        let r = parse(text).unwrap();
        assert_eq!(r, WrkRun { requests_per_sec: 83830.21, p50_ms: 0.512, p99_ms: 5.21, failures: 10 });
        assert!(parse("garbage").is_err());
    }
}
