//! Live mode on the command line: `--live NAME` (this binary's own implementation, run as
//! its `serve` and `drive` commands) or `--server-cmd` and `--client-cmd` (any other, in any
//! language: `DRIVERS.md`), for `run` and `certify`; and the `serve` and `drive` commands
//! themselves.

use super::Cli;
use crate::capability::ServerCapabilities;
use crate::implementation::{Client, Server};
use crate::live::Commands;
use protocol::{Strategies, Strategy};

/// Which implementation runs live, if any.
#[derive(clap::Args, Debug, Default)]
pub struct LiveOptions {
    /// Runs live (real processes, real TCP through the fault proxy, real time): NAME is
    /// this binary's implementation (`list` names it), run as its own `serve` and `drive`
    /// commands; `--mutant` then plants the bug in those.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["server_cmd", "client_cmd"])]
    live: Option<String>,
    /// Runs live with this server command (`sh -c`, environment in DRIVERS.md).
    #[arg(long, value_name = "CMD", requires = "client_cmd")]
    server_cmd: Option<String>,
    /// Runs live with this driver command (`sh -c`, one process per device boot, speaking
    /// the driver protocol of DRIVERS.md).
    #[arg(long, value_name = "CMD", requires = "server_cmd")]
    client_cmd: Option<String>,
    /// What the server of --server-cmd declares, as a JSON file (DRIVERS.md) [default:
    /// last-write-wins by arrival, registers only, no paths named].
    #[arg(long, value_name = "PATH", requires = "server_cmd")]
    server_declares: Option<std::path::PathBuf>,
}

/// What an external server declares, as `--server-declares` reads it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Declared {
    #[serde(default)]
    strategies: Option<DeclaredStrategies>,
    #[serde(default)]
    configurable: Vec<String>,
    #[serde(default)]
    counters: bool,
    #[serde(default)]
    sets: bool,
    #[serde(default)]
    tombstone_horizon: bool,
    #[serde(default)]
    push_path: Option<String>,
    #[serde(default)]
    pull_path: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredStrategies {
    project: String,
    task: String,
}

/// The server's declaration in the file at `path`.
fn server_declares(path: &std::path::Path) -> Result<ServerCapabilities, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--server-declares {}: {e}", path.display()))?;
    let declared: Declared =
        serde_json::from_str(&text).map_err(|e| format!("--server-declares {}: {e}", path.display()))?;
    let strategy = |name: &str| {
        Strategy::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
            format!("--server-declares {}: no strategy {name:?}; one of {}", path.display(), names.join(", "))
        })
    };
    let mut capabilities = ServerCapabilities::default();
    if let Some(strategies) = declared.strategies {
        capabilities.strategies =
            Strategies { project: strategy(&strategies.project)?, task: strategy(&strategies.task)? };
    }
    capabilities.configurable = declared.configurable.iter().map(|s| strategy(s)).collect::<Result<_, _>>()?;
    capabilities.counters = declared.counters;
    capabilities.sets = declared.sets;
    capabilities.tombstone_horizon = declared.tombstone_horizon;
    // Paths live as long as the certification: one leak of a few bytes per run of the CLI.
    capabilities.push_path = declared.push_path.map(|p| &*Box::leak(p.into_boxed_str()));
    capabilities.pull_path = declared.pull_path.map(|p| &*Box::leak(p.into_boxed_str()));
    Ok(capabilities)
}

/// Which build the `serve` and `drive` commands run.
#[derive(clap::Args, Debug)]
pub struct RoleOptions {
    /// The build with this planted bug (`list --mutants`; with `--preset`, one of that
    /// preset's, as `list` names them).
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
    /// The server of this live preset (`serve` only: what `--live NAME` starts).
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
}

/// Another client run live against this binary's server: a driver of a third-party client
/// in any language, selected with `--live NAME` ([`Cli::preset`]).
#[derive(Clone, Debug)]
pub struct Preset<S> {
    /// Its name for `--live`.
    pub name: String,
    /// This binary's server as the preset runs it (`serve --preset NAME`).
    pub server: S,
    /// What that server declares to this client (its paths, its strategies).
    pub server_capabilities: ServerCapabilities,
    /// The command that starts one driver (`sh -c`).
    pub client: String,
    /// Builds of `server` with a bug planted, each caught live against this client:
    /// `--live NAME --mutant M`.
    pub variants: Vec<PresetVariant<S>>,
}

/// The server of a [`Preset`] with a bug planted on purpose.
#[derive(Clone, Debug)]
pub struct PresetVariant<S> {
    /// The bug: its name, the change, the invariant that must catch it.
    pub planted: crate::certify::Planted,
    /// The preset's server with the bug.
    pub server: S,
}

impl LiveOptions {
    /// The commands to run live with (`None` in the simulation); `mutant` is passed on to a
    /// preset's commands. The error says what to write instead.
    pub(crate) fn commands<C, S>(&self, cli: &Cli<C, S>, mutant: Option<&str>) -> Result<Option<Commands>, String> {
        if let (Some(server), Some(client)) = (&self.server_cmd, &self.client_cmd) {
            if mutant.is_some() {
                return Err("--mutant plants a bug in this binary's implementation: use it with --live, not with \
                            --server-cmd and --client-cmd"
                    .into());
            }
            let server_capabilities = match &self.server_declares {
                Some(path) => server_declares(path)?,
                None => ServerCapabilities::default(),
            };
            let (server, client) = (server.clone(), client.clone());
            return Ok(Some(Commands { server, client, server_capabilities: Some(server_capabilities) }));
        }
        let Some(name) = &self.live else { return Ok(None) };
        if let Some(preset) = cli.presets.iter().find(|p| p.name == *name) {
            let planted = mutant.map(|m| format!(" --mutant {}", shell_quote(m))).unwrap_or_default();
            let server = format!("{} serve --preset {}{planted}", this_program()?, shell_quote(name));
            let server_capabilities = Some(preset.server_capabilities.clone());
            return Ok(Some(Commands { server, client: preset.client.clone(), server_capabilities }));
        }
        if *name != cli.live_name {
            let mut names = vec![cli.live_name.clone()];
            names.extend(cli.presets.iter().map(|p| p.name.clone()));
            return Err(format!(
                "no live implementation named `{name}`: this binary runs {} live; for another, give --server-cmd \
                 and --client-cmd (DRIVERS.md)",
                names.join(", ")
            ));
        }
        let exe = this_program()?;
        let planted = mutant.map(|m| format!(" --mutant {}", shell_quote(m))).unwrap_or_default();
        let (server, client) = (format!("{exe} serve{planted}"), format!("{exe} drive{planted}"));
        Ok(Some(Commands { server, client, server_capabilities: None }))
    }

    /// The name of the `--live` implementation when it is not this binary's own: a preset's,
    /// whose variants `--mutant` chooses from.
    pub(crate) fn preset(&self) -> Option<&str> {
        self.live.as_deref()
    }

    /// The flags that select the same live implementation, for replay commands.
    pub(crate) fn flags(&self) -> String {
        match (&self.live, &self.server_cmd, &self.client_cmd) {
            (Some(name), _, _) => format!(" --live {name}"),
            (None, Some(server), Some(client)) => {
                let declares = self
                    .server_declares
                    .as_ref()
                    .map(|path| format!(" --server-declares {}", shell_quote(&path.display().to_string())));
                format!(
                    " --server-cmd {} --client-cmd {}{}",
                    shell_quote(server),
                    shell_quote(client),
                    declares.unwrap_or_default()
                )
            }
            _ => String::new(),
        }
    }
}

/// This program, as one word for `sh`.
fn this_program() -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to run it live: {e}"))?;
    Ok(shell_quote(&exe.display().to_string()))
}

/// `text` as one word for `sh`.
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c)) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl<C: Client + Sync, S: Server + Sync> Cli<C, S> {
    /// `drive`: the chosen client behind the driver protocol on standard input and output.
    pub(crate) fn drive(&self, options: &RoleOptions) -> std::process::ExitCode {
        match self.choose(options.mutant.as_deref(), None) {
            Ok(chosen) => crate::live::drive::drive(chosen.client.clone(), chosen.subject.name),
            Err(message) => super::usage(&message),
        }
    }

    /// `serve`: the chosen server on real TCP, as `DRIVERS.md` says.
    pub(crate) fn serve(&self, options: &RoleOptions) -> std::process::ExitCode {
        if let Some(name) = &options.preset {
            if !self.presets.iter().any(|p| p.name == *name) {
                return super::usage(&format!("no live preset named `{name}`"));
            }
        }
        match self.choose(options.mutant.as_deref(), options.preset.as_deref()) {
            Ok(chosen) => crate::live::serve::serve(chosen.server.clone()),
            Err(message) => super::usage(&message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_declaration_reads_from_json_and_a_mistake_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.json");
        let text = r#"{"strategies":{"project":"field-merge","task":"lww-hlc"},"counters":true,"push_path":"/push"}"#;
        std::fs::write(&path, text).unwrap();
        let declared = server_declares(&path).unwrap();
        assert_eq!((declared.strategies.project, declared.counters), (Strategy::FieldMerge, true));
        assert_eq!((declared.push_path, declared.pull_path, declared.sets), (Some("/push"), None, false));
        std::fs::write(&path, r#"{"strategies":{"project":"coin-toss","task":"lww-hlc"}}"#).unwrap();
        assert!(server_declares(&path).unwrap_err().contains("no strategy \"coin-toss\""));
        std::fs::write(&path, r#"{"counter":true}"#).unwrap();
        assert!(server_declares(&path).unwrap_err().contains("unknown field `counter`"));
    }

    #[test]
    fn words_are_quoted_for_sh_only_when_they_need_it() {
        assert_eq!(shell_quote("/usr/bin/syncsim"), "/usr/bin/syncsim");
        assert_eq!(shell_quote("node driver.mjs"), "'node driver.mjs'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
