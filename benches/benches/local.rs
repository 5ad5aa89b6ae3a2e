//! Local work of the reference client, in wall time, on a device holding 10,000 synced
//! tasks: reading a screenful and everything, a write with its queue entry, applying pull
//! pages, and a cold start. `syncsim bench-report` compares the medians with the targets,
//! and with the same work at local schema 6 (group `local_schema6`), measured in the same
//! run: on a shared machine, figures from another day do not compare.

use benches::{creates, Loopback, LARGE};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use protocol::{Changes, Entity};
use reference_client::{ClientConfig, Replica};
use std::time::Duration;

/// The local schema before records and the queue were packed.
const UNPACKED: u32 = 6;

fn local(c: &mut Criterion) {
    let loopback = Loopback::with_tasks(LARGE);
    // The 10K-record page only at the latest schema: at ten seconds a sample, once is enough.
    measure(c, &loopback, "local_schema6", Some(UNPACKED), &[500]);
    measure(c, &loopback, "local", None, &[500, LARGE]);
}

/// Every figure of the group `name` on a device at local `schema` (the latest when `None`)
/// that pulled the server's 10K tasks, and pages of each of `pages` records applied on
/// fresh devices.
fn measure(c: &mut Criterion, loopback: &Loopback, name: &str, schema: Option<u32>, pages: &[usize]) {
    let config = |device: &str, token: &str| -> ClientConfig {
        let mut config = loopback.config(&format!("{name}-{device}"), token);
        config.schema_version = schema.unwrap_or(config.schema_version);
        config
    };
    let device = Replica::open(config("device", "a2")).expect("the device opens");
    loopback.sync_until_idle(&device);
    assert_eq!(device.list(Entity::Task).expect("a query").len(), LARGE, "the device holds every task");
    let project = creates(1)[0].key().id;

    let mut group = c.benchmark_group(name);
    group.bench_function("query_100", |b| b.iter(|| device.first(Entity::Task, 100).expect("a query")));
    group.bench_function("query_10k", |b| b.iter(|| device.list(Entity::Task).expect("a query")));
    let mut n = 0u64;
    group.bench_function("write", |b| {
        b.iter(|| {
            n += 1;
            let changes = Changes::new().set("project_id", project.as_str()).set("title", format!("new task {n}"));
            device.create(Entity::Task, changes).expect("a local write")
        })
    });
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for &size in pages {
        let page = loopback.page(Entity::Task, size);
        assert_eq!(page.changes.len(), size);
        let bench = if size == LARGE { "apply_page_10k".to_owned() } else { format!("apply_page_{size}") };
        let mut fresh = 0u64;
        group.bench_function(bench, |b| {
            b.iter_batched(
                || {
                    fresh += 1;
                    Replica::open(config(&format!("fresh{size}-{fresh}"), "a3")).expect("a fresh device opens")
                },
                |client| client.apply_page(Entity::Task, &page).expect("the page applies"),
                BatchSize::PerIteration,
            )
        });
    }
    drop(device);
    let reopen = config("device", "a2");
    group.bench_function("cold_start", |b| {
        b.iter(|| {
            let client = Replica::open(reopen.clone()).expect("the device reopens");
            client.first(Entity::Task, 50).expect("the first screen")
        })
    });
    group.finish();
}

criterion_group!(benches, local);
criterion_main!(benches);
