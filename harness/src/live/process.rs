//! Child processes of live mode: each in its own process group, killed with `SIGKILL` of
//! the whole group, and always reaped: when it is killed, when its owner drops it (a panic
//! unwinding included), and at Ctrl-C ([`reap_at_interrupt`]).

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Mutex, Once};

/// The process groups alive now, for Ctrl-C.
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// How many lines of a process's log an error message quotes.
const TAIL_LINES: usize = 12;

/// A child process and its process group. Dropping it kills the group and reaps it.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    log: PathBuf,
    /// Set once it has been waited for.
    status: Option<ExitStatus>,
}

/// A command line, its environment and where its output goes.
pub(crate) struct Spawn<'a> {
    /// What it is, for messages: "device0's driver `node driver.mjs`".
    pub(crate) label: String,
    /// Run with `sh -c`.
    pub(crate) command: &'a str,
    pub(crate) env: Vec<(String, String)>,
    /// Standard error (and standard output unless `piped`) is appended here.
    pub(crate) log: PathBuf,
    /// Standard input and output are pipes to the harness (a driver), else output goes to
    /// the log too (a server).
    pub(crate) piped: bool,
}

impl<'a> Spawn<'a> {
    /// A driver of `device` (`DRIVERS.md`): `command` with the protocol's environment, its
    /// standard error appended to `log`.
    pub(crate) fn driver(label: String, command: &'a str, device: &str, log: PathBuf) -> Self {
        let env = vec![
            ("SYNCSIM_DRIVER_PROTOCOL".to_owned(), super::message::PROTOCOL.to_string()),
            ("SYNCSIM_DEVICE".to_owned(), device.to_owned()),
        ];
        Spawn { label, command, env, log, piped: true }
    }

    /// Starts it in a process group of its own.
    pub(crate) fn start(self) -> io::Result<Process> {
        let log = File::options().create(true).append(true).open(&self.log)?;
        let mut command = Command::new("sh");
        command.arg("-c").arg(self.command).envs(self.env).process_group(0).stderr(log.try_clone()?);
        if self.piped {
            command.stdin(Stdio::piped()).stdout(Stdio::piped());
        } else {
            command.stdin(Stdio::null()).stdout(log);
        }
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        let child = command.spawn()?;
        groups.insert(child.id() as i32);
        Ok(Process { child, log: self.log, status: None })
    }
}

impl Process {
    /// Its standard input and output, once (for a piped process).
    pub(crate) fn pipes(&mut self) -> Option<(ChildStdin, ChildStdout)> {
        Some((self.child.stdin.take()?, self.child.stdout.take()?))
    }

    /// Whether it has exited by itself, and how.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
            if self.status.is_some() {
                self.kill();
            }
        }
        self.status
    }

    /// Kills its whole group with `SIGKILL` and reaps it. Does nothing the second time.
    pub(crate) fn kill(&mut self) {
        let group = self.child.id() as i32;
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        if groups.remove(&group) {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        drop(groups);
        if self.status.is_none() {
            self.status = self.child.wait().ok();
        }
    }

    /// The last lines of its log, for a message.
    pub(crate) fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// Where its log is.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last [`TAIL_LINES`] lines of the file at `path` (its last 16 KiB at most).
pub(crate) fn tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else { return String::new() };
    let length = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(length.saturating_sub(16 * 1024)));
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Kills every process group still alive, then exits with 130, at the first Ctrl-C of
/// this process (installed once; later calls do nothing).
pub(crate) fn reap_at_interrupt() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
            for group in groups.iter() {
                let _ = killpg(Pid::from_raw(*group), Signal::SIGKILL);
            }
            eprintln!("interrupted: {} live process groups killed", groups.len());
            std::process::exit(130);
        });
    });
}
