//! How long `check_service_nodes` takes on a large catalog (5,000 nodes x 20 services, 200
//! instances per service, a check per instance): the store half of a
//! `/v1/health/service/<s>` request. `cargo run --release -p ballast-store --example health_read`
use std::time::Instant;

use ballast_store::catalog::{HealthCheck, NodeService, RegisterRequest};
use ballast_store::{Applier, Command, Store};

fn main() {
    let mut applier = Applier::new(Store::new());
    let mut index = 0;
    for node in 0..5_000u32 {
        let group = node % 25;
        for j in 0..20u32 {
            let name = format!("svc-{}", group * 20 + j);
            let id = format!("{name}-{j}");
            index += 1;
            let req = RegisterRequest {
                node: format!("sim-{node:05}"),
                address: "10.0.0.1".into(),
                service: Some(NodeService { id: id.clone(), service: name.clone(), port: 80, ..NodeService::default() }),
                checks: vec![HealthCheck {
                    node: format!("sim-{node:05}"),
                    check_id: format!("service:{id}"),
                    name: "health".into(),
                    status: "passing".into(),
                    service_id: id,
                    ..HealthCheck::default()
                }],
                ..RegisterRequest::default()
            };
            applier.apply_command(index, &Command::CatalogRegister(req));
        }
    }
    applier.publish();
    let state = applier.store().load();
    let rounds = 2_000;
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        n += state.check_service_nodes("svc-0").0.len();
    }
    let per = t.elapsed() / rounds;
    println!("check_service_nodes(svc-0): {} instances, {per:?} per call", n / rounds as usize);
}
