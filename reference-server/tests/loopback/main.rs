//! The `reference-server` binary on real loopback TCP, with two devices of one user and one
//! device of another.

use protocol::{Clock, Entity};
use reference_client::{Changes, ClientConfig, Replica, TcpConnector};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a free loopback port and waits until it accepts connections.
#[allow(clippy::disallowed_methods)] // real time: a real process is starting, nothing is simulated here
fn start_server(dir: &TempDir) -> (ServerProcess, SocketAddr) {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_reference-server"))
        .args(["--addr", &addr.to_string(), "--db"])
        .arg(dir.path().join("server.db"))
        .args(["--user", "alice:phone-token", "--user", "alice:laptop-token", "--user", "bob:bob-token"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the reference-server binary starts");
    let process = ServerProcess(child);
    for _ in 0..200 {
        if TcpStream::connect(addr).is_ok() {
            return (process, addr);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("reference-server did not listen on {addr} within 5 s");
}

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn device(dir: &TempDir, addr: SocketAddr, name: &str, token: &str) -> (Replica, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock(AtomicI64::new(1_700_000_000_000)));
    let mut config = ClientConfig::new(dir.path().join(name), name, token, Rc::new(TcpConnector::new(addr)));
    config.clock = clock.clone();
    (Replica::open(config).unwrap(), clock)
}

async fn settle(devices: &[&Replica]) {
    for _ in 0..4 {
        for d in devices {
            d.sync().await.unwrap();
        }
    }
    for d in devices {
        assert!(d.sync().await.unwrap().idle(), "{} still had work after settling", d.device());
    }
}

#[tokio::test]
async fn two_devices_of_one_user_converge_and_another_user_sees_nothing() {
    let dir = TempDir::new().unwrap();
    let (_server, addr) = start_server(&dir);
    let (phone, _) = device(&dir, addr, "phone", "phone-token");
    let (laptop, laptop_clock) = device(&dir, addr, "laptop", "laptop-token");
    let (bobs, _) = device(&dir, addr, "bobs-phone", "bob-token");

    // Offline writes on both devices of alice.
    let project = phone.create(Entity::Project, Changes::new().set("name", "Home")).unwrap();
    let task = phone
        .create(
            Entity::Task,
            Changes::new().set("project_id", project.as_str()).set("title", "Paint").increment("pomodoros", 2),
        )
        .unwrap();
    let doomed =
        phone.create(Entity::Task, Changes::new().set("project_id", project.as_str()).set("title", "Old")).unwrap();
    let shed = laptop.create(Entity::Project, Changes::new().set("name", "Shed")).unwrap();
    settle(&[&phone, &laptop]).await;

    // Both edit the same task offline; the laptop's edit is a minute later on its clock.
    laptop_clock.0.fetch_add(60_000, Ordering::SeqCst);
    laptop
        .update(Entity::Task, &task, Changes::new().set("title", "Paint the fence").increment("pomodoros", 3))
        .unwrap();
    phone.update(Entity::Task, &task, Changes::new().set("title", "Paint the door").increment("pomodoros", 4)).unwrap();
    laptop.delete(Entity::Task, &doomed).unwrap();
    laptop.sync().await.unwrap();
    phone.sync().await.unwrap();
    settle(&[&phone, &laptop, &bobs]).await;

    let phone_sees = phone.visible_state().unwrap();
    assert_eq!(phone_sees, laptop.visible_state().unwrap(), "alice's devices converge");
    let paint = &phone_sees[&(Entity::Task, task.clone())];
    assert_eq!(paint["title"], "Paint the fence", "lww-hlc: the later edit wins whatever the arrival order");
    assert_eq!(paint["pomodoros"], 9, "2 + 3 + 4: every increment once");
    assert!(!phone_sees.contains_key(&(Entity::Task, doomed)), "the delete propagated");
    assert!(phone_sees.contains_key(&(Entity::Project, shed)));
    assert_eq!(phone.conflicts().unwrap().len(), 1, "the phone's overridden title is surfaced");

    assert!(bobs.visible_state().unwrap().is_empty(), "bob sees nothing of alice's");
    let private = bobs.create(Entity::Project, Changes::new().set("name", "Bob's")).unwrap();
    settle(&[&bobs, &phone]).await;
    assert!(phone.get(Entity::Project, &private).unwrap().is_none(), "alice sees nothing of bob's");
    assert_eq!(bobs.visible_state().unwrap().len(), 1);
}
