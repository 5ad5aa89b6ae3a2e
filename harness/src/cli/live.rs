//! Live mode on the command line: `--live NAME` (this binary's own implementation, run as
//! its `serve` and `drive` commands) or `--server-cmd` and `--client-cmd` (any other, in any
//! language: `DRIVERS.md`), for `run` and `certify`; and the `serve` and `drive` commands
//! themselves.

use super::Cli;
use crate::implementation::{Client, Server};
use crate::live::Commands;

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
}

/// Which build the `serve` and `drive` commands run.
#[derive(clap::Args, Debug)]
pub struct RoleOptions {
    /// The build with this planted bug (`list --mutants`).
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
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
            return Ok(Some(Commands { server: server.clone(), client: client.clone() }));
        }
        let Some(name) = &self.live else { return Ok(None) };
        if *name != cli.live_name {
            return Err(format!(
                "no live implementation named `{name}`: this binary runs `{}` live; for another, give --server-cmd \
                 and --client-cmd (DRIVERS.md)",
                cli.live_name
            ));
        }
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to run it live: {e}"))?;
        let exe = shell_quote(&exe.display().to_string());
        let planted = mutant.map(|m| format!(" --mutant {}", shell_quote(m))).unwrap_or_default();
        Ok(Some(Commands { server: format!("{exe} serve{planted}"), client: format!("{exe} drive{planted}") }))
    }

    /// The flags that select the same live implementation, for replay commands.
    pub(crate) fn flags(&self) -> String {
        match (&self.live, &self.server_cmd, &self.client_cmd) {
            (Some(name), _, _) => format!(" --live {name}"),
            (None, Some(server), Some(client)) => {
                format!(" --server-cmd {} --client-cmd {}", shell_quote(server), shell_quote(client))
            }
            _ => String::new(),
        }
    }
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
        match self.choose(options.mutant.as_deref()) {
            Ok(chosen) => crate::live::drive::drive(chosen.client.clone(), chosen.subject.name),
            Err(message) => super::usage(&message),
        }
    }

    /// `serve`: the chosen server on real TCP, as `DRIVERS.md` says.
    pub(crate) fn serve(&self, options: &RoleOptions) -> std::process::ExitCode {
        match self.choose(options.mutant.as_deref()) {
            Ok(chosen) => crate::live::serve::serve(chosen.server.clone()),
            Err(message) => super::usage(&message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_sh_only_when_they_need_it() {
        assert_eq!(shell_quote("/usr/bin/syncsim"), "/usr/bin/syncsim");
        assert_eq!(shell_quote("node driver.mjs"), "'node driver.mjs'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
