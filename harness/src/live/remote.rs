//! The harness's end of a driver process (`DRIVERS.md`): requests out with their ids,
//! answers matched back, the driver's steps answered or left for the kill, its logs on the
//! timeline. Anything a driver does wrong breaks the run ([`Broken`]), with a message that
//! names the device, the command and the line; the app's calls then never return, and the
//! live backend ends the run as `unknown`.

use super::message::{ClockSpec, Reply, Request, PROTOCOL};
use super::process::{Process, Spawn};
use crate::device::{DeviceShared, Handle, NotDone};
use crate::history::EventKind;
use crate::implementation::BoxError;
use crate::operation::Operation;
use crate::shared::Run;
use crate::state::{DeviceState, SyncOutcome};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{spawn_local, AbortHandle};

/// How long a driver may take to say hello, open the app or report its state.
pub(crate) const QUICK: Duration = Duration::from_secs(30);
/// How long a driver may take to perform an operation or run a sync round.
pub(crate) const SLOW: Duration = Duration::from_secs(120);
/// How many times, 10 ms apart, a driver whose output ended is asked for its exit status.
const EXIT_POLLS: usize = 100;

/// The first thing that went wrong with a live run's processes; the run ends there.
#[derive(Debug, Default)]
pub(crate) struct Broken(RefCell<Option<String>>);

impl Broken {
    /// Records `why`, unless something broke first.
    pub(crate) fn set(&self, why: String) {
        self.0.borrow_mut().get_or_insert(why);
    }

    pub(crate) fn get(&self) -> Option<String> {
        self.0.borrow().clone()
    }
}

/// What a driver declared in its first line.
#[derive(Clone, Debug)]
pub(crate) struct Hello {
    /// The client as the driver names it (`watermelondb 0.28.0`); may be empty.
    pub(crate) name: String,
    pub(crate) capabilities: crate::capability::ClientCapabilities,
    pub(crate) latest_app_version: u32,
}

/// One driver process, seen from the harness.
pub(crate) struct Remote {
    label: String,
    process: RefCell<Process>,
    out: mpsc::UnboundedSender<String>,
    waiting: RefCell<BTreeMap<u64, (&'static str, oneshot::Sender<Reply>)>>,
    next_id: Cell<u64>,
    /// Set before the harness kills it: its end of file is then expected.
    closing: Cell<bool>,
    broken: Rc<Broken>,
    tasks: RefCell<Vec<AbortHandle>>,
}

impl Remote {
    /// Starts `spawn`, waits for its hello, and serves its lines from then on. `device`
    /// answers its steps (none for a driver that reads the server's state).
    pub(crate) async fn start(
        spawn: Spawn<'_>,
        device: Option<Rc<DeviceShared>>,
        run: Rc<Run>,
        broken: Rc<Broken>,
    ) -> Result<(Rc<Remote>, Hello), String> {
        let label = spawn.label.clone();
        let mut process = spawn.start().map_err(|e| format!("{label} could not start: {e}"))?;
        let (stdin, stdout) = process.pipes().expect("a driver is started with pipes");
        let stdin = tokio::process::ChildStdin::from_std(stdin).map_err(|e| format!("{label}: {e}"))?;
        let stdout = tokio::process::ChildStdout::from_std(stdout).map_err(|e| format!("{label}: {e}"))?;
        let (out, lines_out) = mpsc::unbounded_channel();
        let remote = Rc::new(Remote {
            label,
            process: RefCell::new(process),
            out,
            waiting: RefCell::new(BTreeMap::new()),
            next_id: Cell::new(1),
            closing: Cell::new(false),
            broken,
            tasks: RefCell::new(Vec::new()),
        });
        let writer = spawn_local(write_lines(stdin, lines_out));
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(QUICK, lines.next_line()).await;
        let hello = match first {
            Err(_) => return Err(remote.fault(&format!("did not say hello within {} s", QUICK.as_secs()))),
            Ok(Ok(Some(line))) => remote.hello(&line)?,
            Ok(_) => return Err(remote.ended("before its hello").await),
        };
        let reader = spawn_local(remote.clone().read(lines, device, run));
        remote.tasks.borrow_mut().extend([writer.abort_handle(), reader.abort_handle()]);
        Ok((remote, hello))
    }

    fn hello(&self, line: &str) -> Result<Hello, String> {
        match serde_json::from_str::<Reply>(line) {
            Ok(Reply::Hello { protocol: PROTOCOL, name, capabilities, latest_app_version }) => {
                Ok(Hello { name, capabilities, latest_app_version })
            }
            Ok(Reply::Hello { protocol, .. }) => Err(self.fault(&format!(
                "speaks driver protocol {protocol}; this harness speaks {PROTOCOL} (DRIVERS.md): `{line}`"
            ))),
            _ => Err(self.fault(&format!("began with something else than a hello: `{}`", shorten(line)))),
        }
    }

    /// Serves the driver's lines until it ends.
    async fn read(
        self: Rc<Self>,
        mut lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
        device: Option<Rc<DeviceShared>>,
        run: Rc<Run>,
    ) {
        loop {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) | Err(_) => {
                    if !self.closing.get() {
                        let why = self.ended("while the harness waited for it").await;
                        if !self.closing.get() {
                            self.broken.set(why);
                        }
                    }
                    return;
                }
            };
            if let Err(why) = self.dispatch(&line, device.as_deref(), &run) {
                self.broken.set(self.fault(&why));
                return;
            }
        }
    }

    fn dispatch(&self, line: &str, device: Option<&DeviceShared>, run: &Run) -> Result<(), String> {
        let reply: Reply = serde_json::from_str(line).map_err(|e| {
            format!("printed a line that is not a message of the driver protocol ({e}): `{}`", shorten(line))
        })?;
        match reply {
            Reply::Hello { .. } => Err(format!("said hello twice: `{}`", shorten(line))),
            Reply::Step { id, step } => {
                let stop = device.is_some_and(|d| d.reach(step));
                if !stop {
                    self.send(&Request::GoOn { in_reply_to: id });
                }
                Ok(())
            }
            Reply::Log { text } => {
                let host = device.map_or("server", |d| d.host.as_str());
                run.record(host, EventKind::Note { text: format!("driver: {text}") });
                Ok(())
            }
            answer => {
                let id = answer.in_reply_to().expect("every other message answers a request");
                let (_, waiter) = self.waiting.borrow_mut().remove(&id).ok_or_else(|| {
                    format!("answered id {id}, which the harness never sent or had an answer for: `{}`", shorten(line))
                })?;
                let _ = waiter.send(answer);
                Ok(())
            }
        }
    }

    fn send(&self, request: &Request) {
        let line = serde_json::to_string(request).expect("requests serialize");
        let _ = self.out.send(line);
    }

    /// Sends a request made from its id and waits for the answer; a driver that does not
    /// answer within `limit` breaks the run, and then this never returns.
    async fn ask(&self, what: &'static str, limit: Duration, request: impl FnOnce(u64) -> Request) -> Reply {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (answer, waiter) = oneshot::channel();
        self.waiting.borrow_mut().insert(id, (what, answer));
        self.send(&request(id));
        match tokio::time::timeout(limit, waiter).await {
            Ok(Ok(reply)) => return reply,
            Ok(Err(_)) => {}
            Err(_) => {
                self.broken.set(self.fault(&format!("did not answer `{what}` (id {id}) within {} s", limit.as_secs())))
            }
        }
        std::future::pending().await
    }

    /// Opens the app; `Err` is the driver's own failure to open, for the timeline.
    pub(crate) async fn open(&self, open: impl FnOnce(u64) -> Request) -> Result<(), String> {
        match self.ask("open", QUICK, open).await {
            Reply::Ok { .. } => Ok(()),
            Reply::Fail { error, .. } | Reply::Unknown { error, .. } => Err(error),
            other => unreachable!("an answer, not {other:?}"),
        }
    }

    /// Tells the driver its device's clock changed.
    pub(crate) async fn clock(&self, clock: ClockSpec) {
        self.ask("clock", QUICK, |id| Request::Clock { id, clock }).await;
    }

    /// Marks the end of file to come as the harness's doing, and kills the process group.
    /// Requests waiting for an answer never get one, and break nothing.
    pub(crate) fn kill(&self) {
        self.closing.set(true);
        self.process.borrow_mut().kill();
        self.waiting.borrow_mut().clear();
    }

    fn fault(&self, what: &str) -> String {
        let tail = self.process.borrow().log_tail();
        let log = if tail.is_empty() { String::new() } else { format!("; its standard error ends with:\n{tail}") };
        format!("{} {what}{log}", self.label)
    }

    /// Why its standard output ended: its exit status, once it has one (a process that
    /// closed its output goes on to exit a moment later, or never).
    async fn ended(&self, when: &str) -> String {
        let mut status = None;
        for _ in 0..EXIT_POLLS {
            status = self.process.borrow_mut().exited();
            if status.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let how = status.map_or_else(|| "closed its standard output".to_owned(), |s| format!("exited ({s})"));
        self.fault(&format!("{how} {when}"))
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.closing.set(true);
        self.tasks.borrow_mut().drain(..).for_each(|t| t.abort());
    }
}

async fn write_lines(mut stdin: tokio::process::ChildStdin, mut lines: mpsc::UnboundedReceiver<String>) {
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            return;
        }
    }
}

/// A line as quoted in a message: its first 200 characters.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The app of a device behind its driver.
pub(crate) struct RemoteApp(pub(crate) Rc<Remote>);

impl Handle for RemoteApp {
    async fn perform(&self, operation: &Operation) -> Result<(), NotDone> {
        let operation = operation.clone();
        match self.0.ask("perform", SLOW, |id| Request::Perform { id, operation }).await {
            Reply::Ok { .. } => Ok(()),
            Reply::Fail { error, .. } => Err(NotDone::Failed(error)),
            Reply::Unknown { error, .. } => Err(NotDone::Unknown(error)),
            other => unreachable!("an answer, not {other:?}"),
        }
    }

    async fn sync(&self) -> Result<SyncOutcome, BoxError> {
        match self.0.ask("sync", SLOW, |id| Request::Sync { id }).await {
            Reply::Ok { outcome, .. } => Ok(outcome.unwrap_or_default()),
            Reply::Fail { error, .. } | Reply::Unknown { error, .. } => Err(error.into()),
            other => unreachable!("an answer, not {other:?}"),
        }
    }

    async fn state(&self) -> Result<DeviceState, BoxError> {
        match self.0.ask("state", QUICK, |id| Request::State { id }).await {
            Reply::Ok { state: Some(state), .. } => Ok(state),
            Reply::Ok { state: None, .. } => {
                self.0.broken.set(self.0.fault("answered `state` without a `state`"));
                std::future::pending().await
            }
            Reply::Fail { error, .. } | Reply::Unknown { error, .. } => Err(error.into()),
            other => unreachable!("an answer, not {other:?}"),
        }
    }
}
