//! One client connection to the target and the check of each answer. A
//! request is a success only when the answer says the operation happened:
//! Consul's PUT must answer `true`, a read must find its key, any non-200 or
//! gRPC error is an error.

use std::time::Duration;

use tonic::codec::ProstCodec;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

use crate::etcd_proto::{PutRequest, PutResponse, RangeRequest, RangeResponse, PUT_PATH, RANGE_PATH};
use crate::http1::{HttpConn, HttpError};
use crate::workload::{KeyRequests, Plan, ReadLevel, Target, Workload};

/// Why a request failed; the report counts each kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Connect,
    Io,
    Closed,
    Malformed,
    Timeout,
    HttpStatus(u16),
    /// A Consul PUT answered 200 with a body other than `true`.
    PutRejected,
    /// A read answered without the key (preload lost or never happened).
    MissingKey,
    Grpc(tonic::Code),
}

impl Failure {
    pub fn kind(&self) -> String {
        match self {
            Failure::Connect => "connect".into(),
            Failure::Io => "io".into(),
            Failure::Closed => "closed".into(),
            Failure::Malformed => "malformed".into(),
            Failure::Timeout => "timeout".into(),
            Failure::HttpStatus(code) => format!("http_{code}"),
            Failure::PutRejected => "put_not_true".into(),
            Failure::MissingKey => "missing_key".into(),
            Failure::Grpc(code) => format!("grpc_{code:?}"),
        }
    }

    /// Whether the connection is unusable after this failure.
    fn breaks_connection(&self) -> bool {
        matches!(self, Failure::Connect | Failure::Io | Failure::Closed | Failure::Malformed | Failure::Timeout)
    }
}

impl From<HttpError> for Failure {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Io(_) => Failure::Io,
            HttpError::Closed => Failure::Closed,
            HttpError::Malformed(_) | HttpError::TooLarge => Failure::Malformed,
        }
    }
}

enum Link {
    Http(Option<HttpConn>),
    Grpc(tonic::client::Grpc<Channel>),
}

/// A connection: its own TCP connection (HTTP/1.1) or its own gRPC channel,
/// which is its own HTTP/2 connection.
pub struct Conn {
    addr: String,
    link: Link,
    timeout: Duration,
}

/// Which of a key's requests to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Measured,
    Preload,
}

impl Conn {
    pub async fn connect(target: Target, addr: &str, timeout: Duration) -> Result<Conn, String> {
        let link = if target.is_http() {
            let conn = tokio::time::timeout(timeout, HttpConn::connect(addr))
                .await
                .map_err(|_| format!("connect to {addr}: timed out"))?
                .map_err(|e| format!("connect to {addr}: {e}"))?;
            Link::Http(Some(conn))
        } else {
            let endpoint = Channel::from_shared(format!("http://{addr}"))
                .map_err(|e| format!("bad address {addr}: {e}"))?
                .connect_timeout(timeout)
                .tcp_nodelay(true);
            let channel = endpoint.connect().await.map_err(|e| format!("connect to {addr}: {e}"))?;
            Link::Grpc(tonic::client::Grpc::new(channel))
        };
        Ok(Conn { addr: addr.to_string(), link, timeout })
    }

    /// Issues one request for key `index` and checks its answer.
    pub async fn exec(&mut self, plan: &Plan, index: usize, op: Op) -> Result<(), Failure> {
        let timeout = self.timeout;
        let result = match tokio::time::timeout(timeout, self.exec_untimed(plan, index, op)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        };
        if let (Err(failure), Link::Http(slot)) = (&result, &mut self.link) {
            if failure.breaks_connection() {
                // Reconnect lazily on the next request.
                *slot = None;
            }
        }
        result
    }

    async fn exec_untimed(&mut self, plan: &Plan, index: usize, op: Op) -> Result<(), Failure> {
        let key = &plan.keys[index % plan.keys.len()];
        let workload = if op == Op::Preload { Workload::Put } else { plan.workload };
        match (&mut self.link, key) {
            (Link::Http(slot), KeyRequests::Http { measured, preload }) => {
                let bytes = if op == Op::Preload { preload } else { measured };
                if slot.as_ref().is_none_or(|c| c.must_reconnect) {
                    *slot = None;
                    *slot = Some(HttpConn::connect(&self.addr).await.map_err(|_| Failure::Connect)?);
                }
                let conn = slot.as_mut().ok_or(Failure::Connect)?;
                let resp = conn.request(bytes).await?;
                check_http(plan.target, workload, resp.status, resp.body)
            }
            (Link::Grpc(grpc), KeyRequests::Grpc { key }) => grpc_call(grpc, workload, key, &plan.value).await,
            _ => Err(Failure::Malformed),
        }
    }
}

/// Decides whether an HTTP answer is a success for this target and operation.
pub fn check_http(target: Target, workload: Workload, status: u16, body: &[u8]) -> Result<(), Failure> {
    if status != 200 {
        return Err(Failure::HttpStatus(status));
    }
    match (target, workload) {
        (Target::Consul, Workload::Put) => {
            if body.trim_ascii() == b"true" {
                Ok(())
            } else {
                Err(Failure::PutRejected)
            }
        }
        // The gateway answers a range for an absent key with 200 and no "kvs".
        (Target::EtcdGateway, w) if w != Workload::Put => {
            if body.windows(5).any(|w| w == b"\"kvs\"") {
                Ok(())
            } else {
                Err(Failure::MissingKey)
            }
        }
        _ => Ok(()),
    }
}

async fn grpc_call(
    grpc: &mut tonic::client::Grpc<Channel>,
    workload: Workload,
    key: &[u8],
    value: &[u8],
) -> Result<(), Failure> {
    grpc.ready().await.map_err(|_| Failure::Grpc(tonic::Code::Unavailable))?;
    match workload.read_level() {
        None => {
            let req = PutRequest { key: key.to_vec(), value: value.to_vec(), ..Default::default() };
            let codec: ProstCodec<PutRequest, PutResponse> = ProstCodec::default();
            grpc.unary(tonic::Request::new(req), PathAndQuery::from_static(PUT_PATH), codec)
                .await
                .map_err(|s| Failure::Grpc(s.code()))?;
            Ok(())
        }
        Some(level) => {
            let req = RangeRequest {
                key: key.to_vec(),
                serializable: level == ReadLevel::Stale,
                ..Default::default()
            };
            let codec: ProstCodec<RangeRequest, RangeResponse> = ProstCodec::default();
            let resp = grpc
                .unary(tonic::Request::new(req), PathAndQuery::from_static(RANGE_PATH), codec)
                .await
                .map_err(|s| Failure::Grpc(s.code()))?;
            if resp.get_ref().kvs.is_empty() {
                return Err(Failure::MissingKey);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consul_put_must_answer_true() {
        assert_eq!(check_http(Target::Consul, Workload::Put, 200, b"true"), Ok(()));
        assert_eq!(check_http(Target::Consul, Workload::Put, 200, b"true\n"), Ok(()));
        assert_eq!(check_http(Target::Consul, Workload::Put, 200, b"false"), Err(Failure::PutRejected));
        assert_eq!(check_http(Target::Consul, Workload::Put, 500, b"true"), Err(Failure::HttpStatus(500)));
    }

    #[test]
    fn reads_must_be_200_and_find_the_key() {
        assert_eq!(check_http(Target::Consul, Workload::Get, 200, b"[{}]"), Ok(()));
        assert_eq!(check_http(Target::Consul, Workload::GetStale, 404, b""), Err(Failure::HttpStatus(404)));
        assert_eq!(check_http(Target::EtcdGateway, Workload::Get, 200, br#"{"header":{},"kvs":[{}]}"#), Ok(()));
        assert_eq!(check_http(Target::EtcdGateway, Workload::Get, 200, br#"{"header":{}}"#), Err(Failure::MissingKey));
        assert_eq!(check_http(Target::EtcdGateway, Workload::Put, 200, br#"{"header":{}}"#), Ok(()));
    }

    #[test]
    fn failure_kinds_are_stable_names() {
        assert_eq!(Failure::HttpStatus(503).kind(), "http_503");
        assert_eq!(Failure::Grpc(tonic::Code::Unavailable).kind(), "grpc_Unavailable");
        assert!(Failure::Timeout.breaks_connection());
        assert!(!Failure::HttpStatus(500).breaks_connection());
    }
}
