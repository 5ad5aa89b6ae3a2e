//! The driver side of the driver protocol for a Rust [`Client`]: the `drive` command, which
//! any binary made with `syncsim::cli` has. It opens the client's app on real TCP (the
//! device's port of the proxy) and the machine's clock, and answers the harness's requests
//! on standard input and output (`DRIVERS.md`).

use super::message::{Reply, Request, PROTOCOL};
use crate::clock::DeviceClock;
use crate::env::{DeviceEnv, LiveConditions, Steps};
use crate::implementation::{App, Client};
use crate::net::DeviceConnector;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::task::spawn_local;

/// Runs `client` behind the driver protocol until standard input ends; exits 2 on a line
/// that is not a request of the protocol.
pub(crate) fn drive<C: Client>(client: C, name: String) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, Driver::new(client).serve(name)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("{why}");
            ExitCode::from(2)
        }
    }
}

/// The app behind the protocol, once open.
struct Driver<C: Client> {
    client: C,
    app: RefCell<Option<Rc<C::App>>>,
    out: mpsc::UnboundedSender<String>,
    lines: RefCell<Option<mpsc::UnboundedReceiver<String>>>,
    steps: Rc<StepsWaiting>,
    clock: RefCell<Option<DeviceClock>>,
}

/// The steps the app waits at, by the driver's id.
#[derive(Default)]
struct StepsWaiting {
    next: Cell<u64>,
    waiting: RefCell<BTreeMap<u64, oneshot::Sender<()>>>,
}

impl<C: Client> Driver<C> {
    fn new(client: C) -> Rc<Self> {
        let (out, lines) = mpsc::unbounded_channel();
        Rc::new(Driver {
            client,
            app: RefCell::new(None),
            out,
            lines: RefCell::new(Some(lines)),
            steps: Rc::default(),
            clock: RefCell::new(None),
        })
    }

    fn send(&self, reply: &Reply) {
        let _ = self.out.send(serde_json::to_string(reply).expect("replies serialize"));
    }

    fn ok(&self, in_reply_to: u64) {
        self.send(&Reply::Ok { in_reply_to, outcome: None, state: None });
    }

    fn fail(&self, in_reply_to: u64, error: String) {
        self.send(&Reply::Fail { in_reply_to, error });
    }

    async fn serve(self: Rc<Self>, name: String) -> Result<(), String> {
        let lines = self.lines.borrow_mut().take().expect("served once");
        let writer = spawn_local(write_stdout(lines));
        let capabilities = self.client.capabilities();
        let latest_app_version = self.client.latest_app_version();
        self.send(&Reply::Hello { protocol: PROTOCOL, name, capabilities, latest_app_version });
        let mut input = BufReader::new(tokio::io::stdin()).lines();
        while let Some(line) = input.next_line().await.map_err(|e| format!("reading standard input: {e}"))? {
            let request: Request = serde_json::from_str(&line)
                .map_err(|e| format!("not a request of driver protocol {PROTOCOL} ({e}): `{line}`"))?;
            self.clone().handle(request);
        }
        drop(self);
        let _ = writer.await;
        Ok(())
    }

    fn handle(self: Rc<Self>, request: Request) {
        match request {
            Request::Open { id, device, user, token, server, data_dir, app_version, boot, seed, clock } => {
                let Some(addr) = server.strip_prefix("http://").and_then(|a| a.parse::<SocketAddr>().ok()) else {
                    return self.fail(id, format!("the server {server:?} is not http://IP:PORT"));
                };
                let device_clock = DeviceClock::live(clock.origin_ms, clock.offset_ms, clock.drift_ppm);
                *self.clock.borrow_mut() = Some(device_clock.clone());
                let index = device.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0);
                let env = DeviceEnv {
                    host: device,
                    index,
                    user,
                    token,
                    data_dir,
                    clock: device_clock,
                    seed,
                    boot,
                    app_version,
                    connector: DeviceConnector::tcp(addr),
                    conditions: LiveConditions::default(),
                    steps: self.remote_steps(),
                };
                spawn_local(async move {
                    match self.client.open(env).await {
                        Ok(app) => {
                            *self.app.borrow_mut() = Some(Rc::new(app));
                            self.ok(id);
                        }
                        Err(e) => self.fail(id, e.to_string()),
                    }
                });
            }
            Request::Perform { id, operation } => self.with_app(id, move |this, app| async move {
                match app.perform(&operation).await {
                    Ok(()) => this.ok(id),
                    Err(e) => this.fail(id, e.to_string()),
                }
            }),
            Request::Sync { id } => self.with_app(id, move |this, app| async move {
                match app.sync().await {
                    Ok(outcome) => this.send(&Reply::Ok { in_reply_to: id, outcome: Some(outcome), state: None }),
                    Err(e) => this.fail(id, e.to_string()),
                }
            }),
            Request::State { id } => self.with_app(id, move |this, app| async move {
                match app.state() {
                    Ok(state) => this.send(&Reply::Ok { in_reply_to: id, outcome: None, state: Some(state) }),
                    Err(e) => this.fail(id, e.to_string()),
                }
            }),
            Request::Clock { id, clock } => {
                if let Some(device_clock) = self.clock.borrow().as_ref() {
                    device_clock.set_parts(clock.offset_ms, clock.drift_ppm);
                }
                self.ok(id);
            }
            Request::GoOn { in_reply_to } => {
                if let Some(waiter) = self.steps.waiting.borrow_mut().remove(&in_reply_to) {
                    let _ = waiter.send(());
                }
            }
        }
    }

    /// Runs `work` on the open app, or fails request `id` when no app is open.
    fn with_app<F: std::future::Future<Output = ()> + 'static>(
        self: Rc<Self>,
        id: u64,
        work: impl FnOnce(Rc<Self>, Rc<C::App>) -> F,
    ) {
        let app = self.app.borrow().clone();
        match app {
            Some(app) => {
                spawn_local(work(self, app));
            }
            None => self.fail(id, "the app is not open: open it first".into()),
        }
    }

    /// Steps sent to the harness; the app goes on at its `go_on`.
    fn remote_steps(&self) -> Steps {
        let (steps, out) = (self.steps.clone(), self.out.clone());
        Steps::remote(move |step| {
            let id = steps.next.get() + 1;
            steps.next.set(id);
            let (go_on, waiter) = oneshot::channel();
            steps.waiting.borrow_mut().insert(id, go_on);
            let _ = out.send(serde_json::to_string(&Reply::Step { id, step }).expect("replies serialize"));
            async move {
                // Standard input ended without an answer: the harness is gone, so stop here.
                waiter.await.is_err()
            }
        })
    }
}

async fn write_stdout(mut lines: mpsc::UnboundedReceiver<String>) {
    let mut stdout = tokio::io::stdout();
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
            return;
        }
    }
}
