//! The whole benchmark, section by section: the machine, client CPU per operation,
//! end-to-end throughput and latency, HTTP requests and TCP connections per operation, memory
//! over many operations, and the targets met or missed. Printed as Markdown on stdout.

use std::hint::black_box;

use crate::baseline::Base;
use crate::cpu::{CpuConfig, measure_pair};
use crate::e2e::{self, Measurement, Side};
use crate::fixture::{Canned, Provider, record};
use crate::library::Lib;
use crate::mem::{NANOS_PER_TICK, rss_kib};
use crate::report::{Table, at_most, ms, note, out, per_second, ratio, us};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// A short smoke run.
    pub quick: bool,
    /// Run the CPU section.
    pub cpu: bool,
    /// Run the end-to-end sections (throughput, requests, connections).
    pub e2e: bool,
    /// Run the memory section.
    pub mem: bool,
    /// Instead of the report: run one operation many times, for a profiler
    /// (`provider/operation/side`, e.g. `onerway/capture/library`).
    pub profile: Option<String>,
}

/// The usage text.
pub const USAGE: &str = "usage: preauth-bench [--quick] [--only cpu|e2e|mem]...
       preauth-bench --profile PROVIDER/OPERATION/SIDE [ITERATIONS]

  --quick        a short smoke run (seconds instead of minutes)
  --only NAME    run only this section (repeatable): cpu, e2e, mem
  --profile      run one CPU path in a loop and print nothing, for a profiler such as
                 `valgrind --tool=callgrind`: PROVIDER liquido|onerway|yabandpay,
                 OPERATION authorize|capture|webhook (or one step: authorize-request,
                 authorize-answer, capture-request, capture-answer), SIDE library|baseline
";

impl Options {
    /// Parses the command line (without the program name).
    ///
    /// # Errors
    /// The usage text, for `--help` or an unknown argument.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            quick: false,
            cpu: true,
            e2e: true,
            mem: true,
            profile: None,
        };
        let mut only: Vec<String> = Vec::new();
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => o.quick = true,
                "--only" => only.push(args.next().ok_or(USAGE)?),
                "--profile" => o.profile = Some(args.next().ok_or(USAGE)?),
                n if o.profile.is_some() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    o.profile = o.profile.map(|p| format!("{p}/{n}"));
                }
                _ => return Err(USAGE.into()),
            }
        }
        if !only.is_empty() {
            if only
                .iter()
                .any(|s| !matches!(s.as_str(), "cpu" | "e2e" | "mem"))
            {
                return Err(USAGE.into());
            }
            o.cpu = only.iter().any(|s| s == "cpu");
            o.e2e = only.iter().any(|s| s == "e2e");
            o.mem = only.iter().any(|s| s == "mem");
        }
        Ok(o)
    }

    fn flows(&self) -> usize {
        if self.quick { 200 } else { 6_000 }
    }

    /// Measurements per side and cell (alternating sides); the median by throughput is
    /// reported.
    fn repetitions(&self) -> usize {
        if self.quick { 1 } else { 3 }
    }

    fn mem_iterations(&self) -> usize {
        if self.quick { 20_000 } else { 100_000 }
    }
}

/// The concurrencies of the end-to-end runs.
pub const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// A target, met or not, and why.
struct Verdict {
    target: &'static str,
    met: bool,
    detail: String,
}

fn yes_no(met: bool) -> String {
    if met {
        "met".into()
    } else {
        "**not met**".into()
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "- CPUs: {cpus} (`nproc`), model: {model}\n- memory: {} MiB\n- {rustc}, release profile\n- load average at start: {}\n",
        mem_kib / 1024,
        load.join(" ")
    )
}

/// Runs the benchmark.
///
/// # Errors
/// When a fixture cannot be recorded or a measurement fails.
pub fn run(opts: &Options) -> Result<(), String> {
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    note("recording canned traffic from the simulators");
    if let Some(spec) = &opts.profile {
        return profile(&rt, spec);
    }
    let canned: Vec<Canned> = rt.block_on(async {
        let mut v = Vec::new();
        for p in Provider::ALL {
            v.push(record(p).await?);
        }
        Ok::<_, String>(v)
    })?;

    out(&format!(
        "# preauth benchmarks{}\n\n{}\n",
        if opts.quick { " (--quick)" } else { "" },
        machine()
    ));
    let mut verdicts = Vec::new();
    if opts.cpu {
        verdicts.extend(cpu_section(opts, &canned)?);
    }
    if opts.mem {
        verdicts.push(mem_section(opts, &canned)?);
    }
    if opts.e2e {
        verdicts.extend(e2e_sections(opts, &rt)?);
    }
    if !verdicts.is_empty() {
        let mut t = Table::new(&["target", "result", "detail"]);
        for v in &verdicts {
            t.row(vec![v.target.into(), yes_no(v.met), v.detail.clone()]);
        }
        out(&format!("## Targets\n\n{}\n", t.render()));
    }
    Ok(())
}

/// Runs one CPU path in a loop (see [`Options::profile`]).
fn profile(rt: &tokio::runtime::Runtime, spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split('/').collect();
    let (provider, op, side) = match parts[..] {
        [p, o, s] | [p, o, s, _] => (p, o, s),
        _ => return Err(USAGE.into()),
    };
    let iterations: usize = parts.get(3).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let provider = Provider::ALL
        .into_iter()
        .find(|p| p.name() == provider)
        .ok_or(USAGE)?;
    let canned = rt.block_on(record(provider))?;
    let lib = Lib::new(&canned)?;
    let base = Base::new(&canned)?;
    let mut ok = 0usize;
    for _ in 0..iterations {
        let done = match (op, side) {
            ("authorize", "library") => black_box(black_box(&lib).authorize()).is_ok(),
            ("capture", "library") => black_box(black_box(&lib).capture()).is_ok(),
            ("webhook", "library") => black_box(black_box(&lib).webhook()).is_ok(),
            ("authorize-request", "library") => {
                black_box(black_box(&lib).authorize_request()).is_ok()
            }
            ("authorize-answer", "library") => {
                black_box(black_box(&lib).authorize_answer()).is_ok()
            }
            ("capture-request", "library") => black_box(black_box(&lib).capture_request()).is_ok(),
            ("capture-answer", "library") => black_box(black_box(&lib).capture_answer()).is_ok(),
            ("authorize-request", "baseline") => {
                black_box(black_box(&base).authorize_request()).is_ok()
            }
            ("authorize-answer", "baseline") => {
                black_box(black_box(&base).authorize_answer()).is_ok()
            }
            ("capture-request", "baseline") => {
                black_box(black_box(&base).capture_request()).is_ok()
            }
            ("capture-answer", "baseline") => black_box(black_box(&base).capture_answer()).is_ok(),
            ("authorize", "baseline") => black_box(black_box(&base).authorize()).is_ok(),
            ("capture", "baseline") => black_box(black_box(&base).capture()).is_ok(),
            ("webhook", "baseline") => black_box(black_box(&base).webhook()).is_ok(),
            _ => return Err(USAGE.into()),
        };
        ok += usize::from(done);
    }
    note(&format!("{spec}: {ok} of {iterations} succeeded"));
    Ok(())
}

fn cpu_section(opts: &Options, canned: &[Canned]) -> Result<Vec<Verdict>, String> {
    let cfg = if opts.quick {
        CpuConfig::quick()
    } else {
        CpuConfig::full()
    };
    out(&format!(
        "## 1. Client CPU per operation (sans I/O)\n\nMedian of {} rounds of ~{} ms per side; \
         nanoseconds per operation; canned answers recorded from the simulators.\n\n",
        cfg.rounds,
        cfg.round_time.as_millis()
    ));
    let mut t = Table::new(&[
        "provider",
        "operation",
        "library ns/op",
        "baseline ns/op",
        "library / baseline",
        "within 1.20x",
    ]);
    let mut steps = Table::new(&[
        "provider",
        "step",
        "library ns",
        "baseline ns",
        "library / baseline",
    ]);
    let mut worst: Option<(u128, u128, String)> = None;
    let mut all_met = true;
    for c in canned {
        note(&format!("cpu: {}", c.provider.name()));
        let lib = Lib::new(c)?;
        let base = Base::new(c)?;
        let ops: [(&str, crate::cpu::Pair); 3] = [
            (
                "authorize",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).authorize()).is_ok(),
                    || black_box(black_box(&base).authorize()).is_ok(),
                )?,
            ),
            (
                "capture",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).capture()).is_ok(),
                    || black_box(black_box(&base).capture()).is_ok(),
                )?,
            ),
            (
                "webhook verify",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).webhook()).is_ok(),
                    || black_box(black_box(&base).webhook()).is_ok(),
                )?,
            ),
        ];
        let parts: [(&str, crate::cpu::Pair); 4] = [
            (
                "authorize: build, sign, serialize, prepare",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).authorize_request()).is_ok(),
                    || black_box(black_box(&base).authorize_request()).is_ok(),
                )?,
            ),
            (
                "authorize: parse and map the answer",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).authorize_answer()).is_ok(),
                    || black_box(black_box(&base).authorize_answer()).is_ok(),
                )?,
            ),
            (
                "capture: checks, build, sign, serialize, prepare",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).capture_request()).is_ok(),
                    || black_box(black_box(&base).capture_request()).is_ok(),
                )?,
            ),
            (
                "capture: parse and map the answer",
                measure_pair(
                    cfg,
                    || black_box(black_box(&lib).capture_answer()).is_ok(),
                    || black_box(black_box(&base).capture_answer()).is_ok(),
                )?,
            ),
        ];
        for (name, p) in parts {
            let (l, b) = (u128::from(p.library_ns), u128::from(p.baseline_ns));
            steps.row(vec![
                c.provider.name().into(),
                name.into(),
                p.library_ns.to_string(),
                p.baseline_ns.to_string(),
                ratio(l, b),
            ]);
        }
        for (name, p) in ops {
            let (l, b) = (u128::from(p.library_ns), u128::from(p.baseline_ns));
            let met = at_most(l, b, 120);
            all_met &= met;
            if worst.as_ref().is_none_or(|(wl, wb, _)| l * wb > wl * b) {
                worst = Some((l, b, format!("{} {name}", c.provider.name())));
            }
            t.row(vec![
                c.provider.name().into(),
                name.into(),
                p.library_ns.to_string(),
                p.baseline_ns.to_string(),
                ratio(l, b),
                yes_no(met),
            ]);
        }
    }
    out(&format!(
        "{}\nThe same, step by step (each step measured on its own):\n\n{}\n",
        t.render(),
        steps.render()
    ));
    let detail = worst
        .map(|(l, b, what)| format!("worst: {what} at {}x", ratio(l, b)))
        .unwrap_or_default();
    Ok(vec![Verdict {
        target: "CPU per operation within 1.2x of the baseline",
        met: all_met,
        detail,
    }])
}

fn latency(m: &Measurement) -> String {
    format!(
        "{} / {}",
        ms(m.run.percentile(50)),
        ms(m.run.percentile(99))
    )
}

fn cpu_per_flow(m: &Measurement) -> String {
    let flows = u64::try_from(m.run.flows).unwrap_or(u64::MAX).max(1);
    us(m.run.cpu_ticks * NANOS_PER_TICK / flows)
}

fn rate(m: &Measurement) -> u128 {
    per_second(
        u64::try_from(m.run.flows).unwrap_or(u64::MAX),
        m.run.elapsed_ns,
    )
}

/// The measurement of median throughput.
fn median_by_rate(mut v: Vec<Measurement>) -> Result<Measurement, String> {
    v.sort_by_key(rate);
    let mid = v.len() / 2;
    v.into_iter()
        .nth(mid)
        .ok_or_else(|| "no measurement".to_owned())
}

/// The measurements of one provider and concurrency.
struct Cell {
    lib: Measurement,
    base: Measurement,
    per_call: Option<Measurement>,
    over: Measurement,
}

fn e2e_sections(opts: &Options, rt: &tokio::runtime::Runtime) -> Result<Vec<Verdict>, String> {
    let flows = opts.flows();
    let mut all: Vec<Cell> = Vec::new();
    for p in Provider::ALL {
        for c in CONCURRENCY {
            note(&format!("e2e: {} with {c} tasks", p.name()));
            let (mut libs, mut bases, mut overs) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..opts.repetitions() {
                libs.push(rt.block_on(e2e::measure(p, Side::Library, c, flows))?);
                bases.push(rt.block_on(e2e::measure(p, Side::Baseline, c, flows))?);
                overs.push(rt.block_on(e2e::measure(p, Side::BaselineOverTransport, c, flows))?);
            }
            let (lib, base) = (median_by_rate(libs)?, median_by_rate(bases)?);
            let over = median_by_rate(overs)?;
            let per_call = if p == Provider::Liquido {
                Some(rt.block_on(e2e::measure(p, Side::BaselineTokenPerCall, c, flows))?)
            } else {
                None
            };
            for m in [&lib, &base, &over].into_iter().chain(per_call.as_ref()) {
                if let Some(e) = &m.run.first_error {
                    return Err(format!(
                        "{} {} with {c} tasks: {} flows failed, first: {e}",
                        p.name(),
                        m.side.label(),
                        m.run.errors
                    ));
                }
            }
            all.push(Cell {
                lib,
                base,
                per_call,
                over,
            });
        }
    }

    out(&format!(
        "## 3. End-to-end hold → capture against the loopback simulator\n\n\
         {flows} measured flows per measurement (after a warm-up of max(2 × tasks, 50) flows), \
         a fresh simulator and client per measurement, {} measurement(s) per side and cell \
         alternating library, baseline and the diagnostic below, the median by throughput \
         shown. Simulator and client \
         share one {}-worker tokio runtime, so the machine's CPU is the bottleneck and client \
         CPU shows in throughput. Latency is per flow (two HTTP round trips); CPU is the whole \
         process's (client and simulator) per flow, from `/proc/self/stat`.\n\n",
        opts.repetitions(),
        std::thread::available_parallelism().map_or(2, usize::from)
    ));
    let mut t = Table::new(&[
        "provider",
        "tasks",
        "library flows/s",
        "baseline flows/s",
        "library / baseline",
        "library p50 / p99 ms",
        "baseline p50 / p99 ms",
        "library CPU µs/flow",
        "baseline CPU µs/flow",
        "at least 0.90x",
    ]);
    let mut worst: Option<(u128, u128, String)> = None;
    let mut all_met = true;
    for Cell { lib, base, .. } in &all {
        let (l, b) = (rate(lib), rate(base));
        let met = l * 100 >= b * 90;
        all_met &= met;
        if worst.as_ref().is_none_or(|(wl, wb, _)| l * wb < wl * b) {
            worst = Some((
                l,
                b,
                format!("{} with {} tasks", lib.provider.name(), lib.concurrency),
            ));
        }
        t.row(vec![
            lib.provider.name().into(),
            lib.concurrency.to_string(),
            l.to_string(),
            b.to_string(),
            ratio(l, b),
            latency(lib),
            latency(base),
            cpu_per_flow(lib),
            cpu_per_flow(base),
            yes_no(met),
        ]);
    }
    out(&format!("{}\n", t.render()));

    let mut t = Table::new(&[
        "tasks",
        "library flows/s",
        "baseline, token per call flows/s",
        "library / token per call",
        "token per call p50 / p99 ms",
    ]);
    for Cell { lib, per_call, .. } in &all {
        if let Some(pc) = per_call {
            t.row(vec![
                lib.concurrency.to_string(),
                rate(lib).to_string(),
                rate(pc).to_string(),
                ratio(rate(lib), rate(pc)),
                latency(pc),
            ]);
        }
    }
    out(&format!(
        "Liquido, library (token cached) against a baseline that re-authenticates before every \
         API call, as Liquido's official PHP SDK does:\n\n{}\n",
        t.render()
    ));

    let mut t = Table::new(&[
        "provider",
        "tasks",
        "baseline flows/s",
        "baseline over the library's Transport flows/s",
        "over Transport / baseline",
        "over Transport CPU µs/flow",
        "library flows/s",
    ]);
    for Cell {
        lib, base, over, ..
    } in &all
    {
        t.row(vec![
            lib.provider.name().into(),
            lib.concurrency.to_string(),
            rate(base).to_string(),
            rate(over).to_string(),
            ratio(rate(over), rate(base)),
            cpu_per_flow(over),
            rate(lib).to_string(),
        ]);
    }
    out(&format!(
        "Diagnostic: the baseline's own requests and parsing sent through the library's \
         `Transport` (timeouts, retry policy, tracing span, response headers copied) instead of \
         a plain `reqwest::Client`, measured like the other two. The gap between this column and \
         the baseline is the transport's share; the rest of the library's gap is its CPU path \
         (section 1).\n\n{}\n",
        t.render()
    ));

    out("## 4. HTTP requests and TCP connections per operation\n\n\
         Counted at the simulator (`SimControl::requests()`, `SimControl::connections()`). An \
         operation is an authorize or a capture (two per flow). \"While measuring\" covers the \
         measured flows only; \"whole run\" includes the warm-up and any token requests.\n\n");
    let mut t = Table::new(&[
        "provider",
        "client",
        "tasks",
        "operations measured",
        "requests / operation while measuring",
        "token requests (whole run)",
        "TCP connections (whole run)",
        "new connections while measuring",
    ]);
    let mut one_request = true;
    let mut reused = true;
    for Cell {
        lib,
        base,
        per_call,
        over,
    } in &all
    {
        for m in [lib, base, over].into_iter().chain(per_call.as_ref()) {
            let ops = 2 * u64::try_from(m.run.flows).unwrap_or(u64::MAX);
            if m.side == Side::Library {
                one_request &= m.requests == ops;
                reused &= m.new_connections == 0;
            }
            t.row(vec![
                m.provider.name().into(),
                m.side.label().into(),
                m.concurrency.to_string(),
                ops.to_string(),
                ratio(u128::from(m.requests), u128::from(ops)),
                m.token_requests().to_string(),
                m.total_connections.to_string(),
                m.new_connections.to_string(),
            ]);
        }
    }
    out(&format!("{}\n", t.render()));

    let detail = worst
        .map(|(l, b, what)| format!("worst: {what} at {}x", ratio(l, b)))
        .unwrap_or_default();
    Ok(vec![
        Verdict {
            target: "throughput at least 0.9x of the baseline at every concurrency",
            met: all_met,
            detail,
        },
        Verdict {
            target: "exactly one HTTP request per operation once the token is cached",
            met: one_request,
            detail: "library, every provider and concurrency, while measuring".into(),
        },
        Verdict {
            target: "connections reused (no new connection per request)",
            met: reused,
            detail: "library: no connection opened while measuring, every provider and concurrency"
                .into(),
        },
    ])
}

fn mem_section(opts: &Options, canned: &[Canned]) -> Result<Verdict, String> {
    let iterations = opts.mem_iterations();
    let step = iterations / 10;
    let mut samples: Vec<Vec<u64>> = Vec::new();
    let mut peaks = Vec::new();
    for c in canned {
        note(&format!("memory: {}", c.provider.name()));
        let lib = Lib::new(c)?;
        let mut s = vec![rss_kib().0];
        for i in 1..=iterations {
            let a = black_box(black_box(&lib).authorize()).is_ok();
            let b = black_box(black_box(&lib).capture()).is_ok();
            if !(a && b) {
                return Err(format!("{}: an operation failed", c.provider.name()));
            }
            if i % step == 0 {
                s.push(rss_kib().0);
            }
        }
        peaks.push(rss_kib().1);
        samples.push(s);
    }
    let mut head = vec!["iterations (authorize + capture)".to_owned()];
    head.extend(
        canned
            .iter()
            .map(|c| format!("{} VmRSS KiB", c.provider.name())),
    );
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut t = Table::new(&head_refs);
    for row in 0..=10 {
        let mut cells = vec![(row * step).to_string()];
        cells.extend(
            samples
                .iter()
                .map(|s| s.get(row).map(u64::to_string).unwrap_or_default()),
        );
        t.row(cells);
    }
    let mut peak = vec!["VmHWM (peak) after".to_owned()];
    peak.extend(peaks.iter().map(u64::to_string));
    t.row(peak);
    // Growth from the first sample (after `step` iterations, allocator warm) to the last.
    let growth: Vec<u64> = samples
        .iter()
        .map(|s| {
            s.last()
                .copied()
                .unwrap_or(0)
                .saturating_sub(s.get(1).copied().unwrap_or(0))
        })
        .collect();
    let mut g = vec![format!("growth {step} → {iterations}")];
    g.extend(growth.iter().map(u64::to_string));
    t.row(g);
    out(&format!(
        "## 2. Memory\n\nThe library's authorize and capture CPU paths, {iterations} times each \
         per provider, one provider after the other in one process; resident memory sampled \
         every {step} iterations from `/proc/self/status`.\n\n{}\n",
        t.render()
    ));
    // One leaked allocation per iteration (32 bytes at least) would add 2.7 MiB over 90 000
    // iterations; 1 MiB tolerates allocator noise and catches that.
    let limit = u64::try_from(iterations).unwrap_or(u64::MAX) * 32 * 9 / 10 / 1024 / 2;
    let met = growth.iter().all(|g| *g < limit);
    Ok(Verdict {
        target: "memory flat over many operations",
        met,
        detail: format!(
            "growth {} KiB (limit {limit} KiB, half of one leaked 32-byte allocation per iteration)",
            growth
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        ),
    })
}
