//! The command lines that replay a run or a fuzz case: under cargo, `cargo run` of the
//! package that runs this (cargo sets `CARGO_PKG_NAME` for the programs and tests it runs);
//! otherwise the running program itself.

/// The command that runs the certifying binary, up to its subcommand.
pub(crate) fn program() -> String {
    match package() {
        Some(package) => format!("cargo run --release -p {package} --"),
        None => std::env::args().next().unwrap_or_else(|| "syncsim".to_owned()),
    }
}

/// The command that replays one seed of one scenario: `{scenario}` and `{seed}` are
/// filled in later.
pub(crate) fn run() -> String {
    format!("{} run {{scenario}} --seed {{seed}}", program())
}

/// The command that replays one fuzz case: `{campaign}` and `{case}` are filled in later.
pub(crate) fn fuzz() -> String {
    format!("{} fuzz --seed {{campaign}} --case {{case}}", program())
}

/// The package cargo runs this in, when it does.
pub(crate) fn package() -> Option<String> {
    std::env::var("CARGO_PKG_NAME").ok().filter(|name| !name.is_empty())
}
