//! The `proxy` command: the live fault proxy on its own, in front of a dev server, for a
//! phone emulator or a browser pointed at it by hand.
//!
//! ```text
//! syncsim proxy --listen 127.0.0.1:9000 --upstream 127.0.0.1:8080 --profile slow-4g \
//!     --http lose_response@/push:300 --at 30s=partition --at 45s=repair --for 60s
//! ```

use super::usage;
use crate::fault::{Fault, Target, Ways};
use crate::live::Proxy;
use crate::net::{HttpFault, Profile, Route};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// How to run a proxy.
#[derive(clap::Args, Debug)]
pub struct ProxyOptions {
    /// Where devices connect (port 0 picks a free one, printed at the start).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The server behind the proxy.
    #[arg(long)]
    upstream: SocketAddr,
    /// The network profile at the start (`list` names them).
    #[arg(long, default_value = "wifi", value_parser = parse_profile)]
    profile: Profile,
    /// An HTTP fault from the start: FAULT[@PATH][:PER_MILLE], e.g. `lose_response@/push:300`.
    /// FAULT is `lose_response`, `reset_mid_body`, `status_503`, `status_429_retry_after_3s`
    /// or `slow_1500ms`; without a path it hits every request, without a rate all of them.
    #[arg(long, value_name = "SPEC", value_parser = parse_http)]
    http: Vec<Fault>,
    /// A change at a time since the start: TIME=ACTION, e.g. `30s=partition`. ACTION is
    /// `partition`, `repair` (each also `:to-server` or `:from-server`), `hold`, `release`,
    /// `profile:NAME`, `http:SPEC` (as `--http`) or `calm` (HTTP faults off); TIME is
    /// seconds (`30`, `30s`) or milliseconds (`1500ms`).
    #[arg(long = "at", value_name = "TIME=ACTION", value_parser = parse_at)]
    schedule: Vec<(Duration, Fault)>,
    /// Stops after this long (default: at Ctrl-C).
    #[arg(long = "for", value_name = "TIME", value_parser = parse_time)]
    duration: Option<Duration>,
    /// Draws which requests the HTTP faults hit, and the profile's losses.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// How often the proxy looks at its schedule and prints what it recorded.
const POLL: Duration = Duration::from_millis(20);

/// Runs the proxy until `--for` or Ctrl-C; exits 2 when it cannot listen.
pub(crate) fn proxy(options: &ProxyOptions) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run(options))
}

async fn run(options: &ProxyOptions) -> ExitCode {
    let proxy = match Proxy::bind(options.listen, options.upstream, options.profile, options.seed).await {
        Ok(proxy) => proxy,
        Err(e) => return usage(&format!("cannot listen on {}: {e}", options.listen)),
    };
    println!(
        "syncsim proxy: listening on {} for {} on {} (seed {})",
        proxy.local_addr(),
        options.upstream,
        options.profile.name,
        options.seed
    );
    let mut schedule: Vec<(Duration, Fault)> = options.http.iter().map(|f| (Duration::ZERO, f.clone())).collect();
    schedule.extend(options.schedule.iter().cloned());
    schedule.sort_by_key(|(at, _)| *at);
    let start = tokio::time::Instant::now(); // the proxy runs in real time
    let (mut next, mut printed) = (0, 0);
    loop {
        let now = start.elapsed();
        while let Some((_, fault)) = schedule.get(next).filter(|(at, _)| *at <= now) {
            println!("{:>9.3}s proxy    {fault}", now.as_secs_f64());
            proxy.apply(fault);
            next += 1;
        }
        let timeline = proxy.timeline();
        timeline[printed..].iter().for_each(|event| println!("{}", event.line()));
        printed = timeline.len();
        if options.duration.is_some_and(|d| now >= d) {
            return ExitCode::SUCCESS;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
        }
    }
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name).collect();
        format!("no profile named {name:?}; the profiles are: {}", names.join(", "))
    })
}

fn parse_time(text: &str) -> Result<Duration, String> {
    let number = |s: &str| s.parse::<u64>().map_err(|_| format!("{text:?} is not a time: write 30, 30s or 1500ms"));
    match text.strip_suffix("ms") {
        Some(ms) => number(ms).map(Duration::from_millis),
        None => number(text.strip_suffix('s').unwrap_or(text)).map(Duration::from_secs),
    }
}

/// `FAULT[@PATH][:PER_MILLE]`.
fn parse_http(spec: &str) -> Result<Fault, String> {
    let (rest, permille) = match spec.rsplit_once(':') {
        Some((rest, rate)) => {
            let rate = rate.parse::<u32>().ok().filter(|r| *r <= 1000);
            (rest, rate.ok_or_else(|| format!("{spec:?}: the rate after `:` is per mille, 0 to 1000"))?)
        }
        None => (spec, 1000),
    };
    let (name, route) = match rest.split_once('@') {
        Some((name, path)) if path.starts_with('/') => (name, Route::Path(Box::leak(path.to_owned().into_boxed_str()))),
        Some(_) => return Err(format!("{spec:?}: the path after `@` starts with `/`")),
        None => (rest, Route::Any),
    };
    let fault = HttpFault::from_name(name).ok_or_else(|| {
        format!(
            "{spec:?}: no HTTP fault named {name:?}; write lose_response, reset_mid_body, status_503, \
             status_429_retry_after_3s or slow_1500ms"
        )
    })?;
    Ok(Fault::Http(fault, route, permille))
}

/// `TIME=ACTION`.
fn parse_at(text: &str) -> Result<(Duration, Fault), String> {
    let (time, action) =
        text.split_once('=').ok_or_else(|| format!("{text:?} is not TIME=ACTION, e.g. 30s=partition"))?;
    let device = Target::Device(0);
    let ways = |rest: Option<&str>| match rest {
        None => Ok(Ways::Both),
        Some("to-server") => Ok(Ways::ToServer),
        Some("from-server") => Ok(Ways::FromServer),
        Some(other) => Err(format!("{text:?}: {other:?} is not to-server or from-server")),
    };
    let (verb, rest) = match action.split_once(':') {
        Some((verb, rest)) => (verb, Some(rest)),
        None => (action, None),
    };
    let fault = match (verb, rest) {
        ("partition", rest) => Fault::Partition(device, ways(rest)?),
        ("repair", rest) => Fault::Repair(device, ways(rest)?),
        ("hold", None) => Fault::Hold(device),
        ("release", None) => Fault::Release(device),
        ("calm", None) => Fault::HttpCalm,
        ("profile", Some(name)) => Fault::Profile(device, parse_profile(name)?),
        ("http", Some(spec)) => parse_http(spec)?,
        _ => {
            return Err(format!(
            "{text:?}: no action {action:?}; write partition, repair, hold, release, profile:NAME, http:SPEC or calm"
        ))
        }
    };
    Ok((parse_time(time)?, fault))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_reads_as_the_faults_it_names() {
        assert_eq!(parse_at("30s=partition"), Ok((Duration::from_secs(30), Fault::Partition(0.into(), Ways::Both))));
        assert_eq!(
            parse_at("1500ms=repair:to-server"),
            Ok((Duration::from_millis(1500), Fault::Repair(0.into(), Ways::ToServer)))
        );
        assert_eq!(parse_at("2=profile:lte"), Ok((Duration::from_secs(2), Fault::Profile(0.into(), Profile::LTE))));
        let http = parse_http("lose_response@/push:300").unwrap();
        assert_eq!(http.to_string(), "http lose_response on /push for 300 per mille");
        assert_eq!(parse_http("status_503").unwrap(), Fault::Http(HttpFault::ServerError(503), Route::Any, 1000));
    }

    #[test]
    fn a_mistake_in_a_schedule_says_what_to_write() {
        for (bad, says) in [
            ("30s", "TIME=ACTION"),
            ("30s=explode", "no action"),
            ("soon=hold", "not a time"),
            ("1s=partition:sideways", "to-server"),
            ("1s=profile:5g", "no profile"),
            ("1s=http:lose@/push", "no HTTP fault"),
            ("1s=http:lose_response@push", "starts with `/`"),
            ("1s=http:lose_response:2000", "per mille"),
        ] {
            let error = parse_at(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
