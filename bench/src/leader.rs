//! Which of a cluster's client addresses belongs to the Raft leader, so writes
//! and leader-only reads go straight to it (a follower would forward them and
//! add a hop the other system does not pay).
//!
//! Every server is asked; an answer counts only when a majority of the given
//! addresses name the same leader, so a server with a stale view (just after
//! an election) cannot send the benchmark to a follower.
//!
//! - Consul/ballast: `GET /v1/status/leader` answers `"ip:server-port"`; the
//!   leader is the address with that IP (each server has its own loopback IP).
//! - etcd: `Maintenance/Status` answers the member's own id and the leader's
//!   id; the leader is the address whose member id is the leader's.

use std::time::{Duration, Instant};

use tonic::codec::ProstCodec;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

use crate::etcd_proto::{StatusRequest, StatusResponse, STATUS_PATH};
use crate::http1::HttpConn;
use crate::workload::Target;

/// Per-question deadline; a server that does not answer in time has no view.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The host part of `host:port` or `[v6]:port`.
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Parses the body of Consul's `/v1/status/leader`: a JSON string, empty
/// when there is no leader.
pub fn parse_consul_leader(body: &[u8]) -> Result<Option<String>, String> {
    let leader: String =
        serde_json::from_slice(body).map_err(|e| format!("status/leader is not a JSON string: {e}"))?;
    Ok(if leader.is_empty() { None } else { Some(leader) })
}

/// The address among `addrs` whose host is the host of `leader` (a Raft
/// server address, whose port differs from the client port).
pub fn addr_with_host_of<'a>(leader: &str, addrs: &'a [String]) -> Option<&'a String> {
    let host = host_of(leader);
    addrs.iter().find(|a| host_of(a) == host)
}

/// The leader named by more than half of `total` servers, if any.
pub fn agreed(views: &[Option<String>], total: usize) -> Option<String> {
    for candidate in views.iter().flatten() {
        let votes = views.iter().filter(|v| v.as_ref() == Some(candidate)).count();
        if votes * 2 > total {
            return Some(candidate.clone());
        }
    }
    None
}

/// Asks every address until a majority agree on a leader, or `timeout` passes.
pub async fn find_leader(target: Target, addrs: &[String], timeout: Duration) -> Result<String, String> {
    if addrs.is_empty() {
        return Err("no addresses".into());
    }
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer");
    loop {
        let views = match target {
            Target::Consul => consul_views(addrs, &mut last).await,
            Target::Etcd | Target::EtcdGateway => etcd_views(addrs, &mut last).await,
        };
        if let Some(leader) = agreed(&views, addrs.len()) {
            return Ok(leader);
        }
        if Instant::now() >= deadline {
            return Err(format!("no leader agreed by a majority of {} after {timeout:?}: {last}", addrs.join(",")));
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

async fn consul_views(addrs: &[String], last: &mut String) -> Vec<Option<String>> {
    let mut views = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let view = match tokio::time::timeout(ASK_TIMEOUT, ask_consul(addr)).await {
            Ok(Ok(Some(leader))) => match addr_with_host_of(&leader, addrs) {
                Some(found) => Some(found.clone()),
                None => {
                    *last = format!("{addr} names leader {leader}, whose IP is none of the given addresses");
                    None
                }
            },
            Ok(Ok(None)) => {
                *last = format!("{addr} knows no leader yet");
                None
            }
            Ok(Err(e)) => {
                *last = format!("{addr}: {e}");
                None
            }
            Err(_) => {
                *last = format!("{addr}: timed out");
                None
            }
        };
        views.push(view);
    }
    views
}

async fn ask_consul(addr: &str) -> Result<Option<String>, String> {
    let mut conn = HttpConn::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let request = format!("GET /v1/status/leader HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let resp = conn.request(request.as_bytes()).await.map_err(|e| e.to_string())?;
    if resp.status != 200 {
        return Err(format!("status/leader answered {}", resp.status));
    }
    parse_consul_leader(resp.body)
}

async fn etcd_views(addrs: &[String], last: &mut String) -> Vec<Option<String>> {
    // (member id, leader id) per address.
    let mut answers: Vec<Option<(u64, u64)>> = Vec::with_capacity(addrs.len());
    for addr in addrs {
        match tokio::time::timeout(ASK_TIMEOUT, ask_etcd(addr)).await {
            Ok(Ok(ids)) => answers.push(Some(ids)),
            Ok(Err(e)) => {
                *last = format!("{addr}: {e}");
                answers.push(None);
            }
            Err(_) => {
                *last = format!("{addr}: timed out");
                answers.push(None);
            }
        }
    }
    let addr_of_member = |id: u64| {
        answers.iter().zip(addrs).find(|(a, _)| matches!(a, Some((member, _)) if *member == id)).map(|(_, addr)| addr)
    };
    answers
        .iter()
        .map(|a| match a {
            Some((_, 0)) => {
                *last = "a member knows no leader yet".into();
                None
            }
            Some((_, leader)) => addr_of_member(*leader).cloned(),
            None => None,
        })
        .collect()
}

async fn ask_etcd(addr: &str) -> Result<(u64, u64), String> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| format!("bad address: {e}"))?
        .connect_timeout(ASK_TIMEOUT)
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| format!("channel: {e}"))?;
    let codec: ProstCodec<StatusRequest, StatusResponse> = ProstCodec::default();
    let resp = grpc
        .unary(tonic::Request::new(StatusRequest {}), PathAndQuery::from_static(STATUS_PATH), codec)
        .await
        .map_err(|s| format!("Maintenance/Status: {}", s.code()))?
        .into_inner();
    let member = resp.header.map(|h| h.member_id).ok_or("Maintenance/Status answered without a header")?;
    Ok((member, resp.leader))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> Vec<String> {
        vec!["127.0.0.1:8500".into(), "127.0.0.2:8500".into(), "127.0.0.3:8500".into()]
    }

    #[test]
    fn hosts_of_v4_and_v6() {
        assert_eq!(host_of("127.0.0.2:8300"), "127.0.0.2");
        assert_eq!(host_of("[::1]:8300"), "::1");
        assert_eq!(host_of("noport"), "noport");
    }

    #[test]
    fn consul_leader_body() {
        assert_eq!(parse_consul_leader(br#""127.0.0.2:8300""#), Ok(Some("127.0.0.2:8300".into())));
        assert_eq!(parse_consul_leader(br#""""#), Ok(None));
        assert!(parse_consul_leader(b"[1]").is_err());
        assert!(parse_consul_leader(b"").is_err());
    }

    #[test]
    fn leader_maps_to_the_client_address_by_ip() {
        let a = addrs();
        assert_eq!(addr_with_host_of("127.0.0.3:8300", &a), Some(&a[2]));
        assert_eq!(addr_with_host_of("127.0.0.9:8300", &a), None);
    }

    #[test]
    fn majority_decides() {
        let x = Some("x".to_string());
        let y = Some("y".to_string());
        assert_eq!(agreed(&[x.clone(), x.clone(), y.clone()], 3), x);
        assert_eq!(agreed(&[x.clone(), None, y.clone()], 3), None);
        assert_eq!(agreed(&[None, None, None], 3), None);
        assert_eq!(agreed(&[x.clone()], 1), x);
        // Two of four is not a majority.
        assert_eq!(agreed(&[x.clone(), x, y.clone(), y], 4), None);
    }
}
