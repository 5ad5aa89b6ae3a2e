//! Who is certified, as the reports name it, and how a failing seed is replayed.

/// The implementation under certification as the reports name it.
///
/// Default: named after the package that runs it (cargo's `CARGO_PKG_NAME`; outside cargo,
/// the program's file name), replayed with [`Subject::default_replay`], no bug planted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// Its name in reports: `json-store`, `reference`, `mutant:NAME`.
    pub name: String,
    /// The command that replays one seed of one scenario; `{scenario}` and `{seed}` are
    /// filled in.
    pub replay: String,
    /// The bug deliberately planted in it, when it is a mutant.
    pub planted: Option<Planted>,
}

/// A bug planted on purpose, to prove that a check bites: the invariant that names it
/// must catch it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planted {
    /// Its stable name (`fresh_key_per_retry`).
    pub name: String,
    /// The change, in one sentence.
    pub change: String,
    /// The invariant that must catch it.
    pub caught_by: String,
    /// The scenario built to catch it.
    pub scenario: String,
}

impl Default for Subject {
    fn default() -> Self {
        let name = crate::command::package().or_else(program).unwrap_or_else(|| "implementation".to_owned());
        Subject { name, replay: Self::default_replay(), planted: None }
    }
}

impl Subject {
    /// `name`, replayed by `replay` (`{scenario}` and `{seed}` are filled in).
    pub fn new(name: &str, replay: &str) -> Self {
        Subject { name: name.to_owned(), replay: replay.to_owned(), planted: None }
    }

    /// The replay command of the CLI ([`crate::cli`]) of the package that runs this: under
    /// cargo (`cargo run`, `cargo test`), `cargo run --release -p PACKAGE -- run {scenario}
    /// --seed {seed}`; otherwise the running program itself.
    pub fn default_replay() -> String {
        crate::command::run()
    }

    /// The command that replays seed `seed` of `scenario`; a mutant's names it.
    pub fn replay_command(&self, scenario: &str, seed: u64) -> String {
        let command = self.replay.replace("{scenario}", scenario).replace("{seed}", &seed.to_string());
        match &self.planted {
            Some(planted) if !command.contains("--mutant") => format!("{command} --mutant {}", planted.name),
            _ => command,
        }
    }

    /// The name of a failing seed's timeline, relative to the certification page:
    /// `runs/SCENARIO-SEED.html`, `runs/SCENARIO-SEED-MUTANT.html` for a mutant, so that
    /// several certifications can share a directory.
    pub fn timeline_path(&self, scenario: &str, seed: u64) -> String {
        match &self.planted {
            None => format!("runs/{scenario}-{seed}.html"),
            Some(planted) => format!("runs/{scenario}-{seed}-{}.html", planted.name),
        }
    }
}

/// The running program's file name, without its directory.
fn program() -> Option<String> {
    let path = std::path::PathBuf::from(std::env::args_os().next()?);
    Some(path.file_stem()?.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutant_is_named_in_its_replay_command_and_its_timeline() {
        let mut subject = Subject::new("reference", "cargo run -p scenarios -- run {scenario} --seed {seed}");
        assert_eq!(subject.replay_command("s", 3), "cargo run -p scenarios -- run s --seed 3");
        assert_eq!(subject.timeline_path("s", 3), "runs/s-3.html");
        let planted = Planted { name: "m".into(), change: "c".into(), caught_by: "i".into(), scenario: "s".into() };
        subject.planted = Some(planted);
        assert_eq!(subject.replay_command("s", 3), "cargo run -p scenarios -- run s --seed 3 --mutant m");
        assert_eq!(subject.timeline_path("s", 3), "runs/s-3-m.html");
    }

    #[test]
    fn under_cargo_the_default_replay_runs_the_package_that_runs_the_tests() {
        let replay = Subject::default().replay_command("lost_acknowledgements", 2);
        assert_eq!(replay, "cargo run --release -p syncsim -- run lost_acknowledgements --seed 2");
    }
}
