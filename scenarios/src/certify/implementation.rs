//! Which implementation a run puts under test: the reference, or one of its mutants.

use scenarios::mutant::{self, Mutant};
use scenarios::reference::{ReferenceClient, ReferenceServer};
use syncsim::Scenario;

/// The implementation under test. Default: the reference.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum Implementation {
    /// The reference client and server as they are.
    #[default]
    Reference,
    /// The reference with one bug of the catalog planted.
    Mutant(&'static Mutant),
}

impl Implementation {
    /// The reference when `mutant` is `None`, else the mutant of that name; the error says
    /// which names exist.
    pub(crate) fn resolve(mutant: Option<&str>) -> Result<Self, String> {
        let Some(name) = mutant else { return Ok(Self::Reference) };
        mutant::by_name(name).map(Self::Mutant).ok_or_else(|| {
            let names: Vec<&str> = mutant::ALL.iter().map(|m| m.name).collect();
            format!("no mutant named `{name}`; the mutants are: {}", names.join(", "))
        })
    }

    /// The client adapter, with the mutant's bug when it is a client bug.
    pub(crate) fn client(self) -> ReferenceClient {
        match self {
            Self::Reference => ReferenceClient::default(),
            Self::Mutant(m) => m.client(),
        }
    }

    /// The server adapter, with the mutant's bug when it is a server bug.
    pub(crate) fn server(self) -> ReferenceServer {
        match self {
            Self::Reference => ReferenceServer::default(),
            Self::Mutant(m) => m.server(),
        }
    }

    /// How reports name it: `reference` or `mutant:NAME`.
    pub(crate) fn label(self) -> String {
        match self {
            Self::Reference => "reference".to_owned(),
            Self::Mutant(m) => format!("mutant:{}", m.name),
        }
    }

    /// The command that replays seed `seed` of `scenario` on this implementation. The
    /// scenario's replay command knows nothing of mutants, so a mutant's name is appended.
    pub(crate) fn replay(self, scenario: &Scenario, seed: u64) -> String {
        let command = scenario.replay_command(seed);
        match self {
            Self::Reference => command,
            Self::Mutant(m) => format!("{command} --mutant {}", m.name),
        }
    }
}
