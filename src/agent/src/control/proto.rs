//! Requests servers make of each other on the transport's call lane (rkyv, validated on
//! decode). Raft's own messages travel on the one-way lanes; these are the
//! request/response conversations around them: discovery, forwarding, operator actions.
use ballast_raft::ServerInfo;
use rkyv::rancor::Error as RkyvError;
use rkyv::{Archive, Deserialize, Serialize};

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Discovery: "I am this server, expecting N servers; whom do you know?"
    Hello { me: ServerInfo, datacenter: String, bootstrap_expect: u32, read_replica: bool },
    /// A follower forwards a client's write (an encoded store command) to the leader.
    Propose { cmd: Vec<u8> },
    /// A follower asks the leader for a linearizable read point.
    ReadIndex,
    /// A server outside the configuration asks the leader to add it.
    Join { me: ServerInfo, read_replica: bool },
    RemovePeer { by_id: bool, key: String },
    TransferLeader { to: String },
    RaftConfiguration,
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Hello {
        known: Vec<ServerInfo>,
        /// The responder holds a Raft configuration (it bootstrapped or was added).
        configured: bool,
        leader: Option<ServerInfo>,
        datacenter: String,
    },
    /// The leader appended the forwarded write at `index` in `term`; the follower
    /// answers its client once it applied that index itself (if the term matches).
    Proposed { index: u64, term: u64 },
    ReadIndex { index: u64 },
    Done,
    Configuration { servers: Vec<WireServer>, leader: u64, index: u64 },
    NotLeader { leader: Option<ServerInfo> },
    /// `code`: the HTTP status Consul gives for this failure.
    Error { code: u16, message: String },
}

#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WireServer {
    pub info: ServerInfo,
    pub voter: bool,
    pub last_index: u64,
}

pub fn encode_request(r: &Request) -> Vec<u8> {
    rkyv::to_bytes::<RkyvError>(r).map(|b| b.into_vec()).unwrap_or_default()
}

pub fn encode_response(r: &Response) -> Vec<u8> {
    rkyv::to_bytes::<RkyvError>(r).map(|b| b.into_vec()).unwrap_or_default()
}

pub fn decode_request(bytes: &[u8]) -> Result<Request, String> {
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(bytes);
    rkyv::from_bytes::<Request, RkyvError>(&aligned).map_err(|e| format!("bad request: {e}"))
}

pub fn decode_response(bytes: &[u8]) -> Result<Response, String> {
    let mut aligned = rkyv::util::AlignedVec::<16>::new();
    aligned.extend_from_slice(bytes);
    rkyv::from_bytes::<Response, RkyvError>(&aligned).map_err(|e| format!("bad response: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn round_trip_and_garbage_is_an_error() {
        let me = ServerInfo { id: 7, address: "127.0.0.1:8300".into(), node: "s1".into(), node_id: "u".into() };
        let req = Request::Hello { me: me.clone(), datacenter: "dc1".into(), bootstrap_expect: 3, read_replica: false };
        assert_eq!(decode_request(&encode_request(&req)).unwrap(), req);
        let resp = Response::Hello { known: vec![me.clone()], configured: true, leader: Some(me), datacenter: "dc1".into() };
        assert_eq!(decode_response(&encode_response(&resp)).unwrap(), resp);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let valid = encode_request(&req);
        for _ in 0..20_000 {
            let mut b = if rng.gen_bool(0.5) { valid.clone() } else { (0..rng.gen_range(0..64)).map(|_| rng.gen()).collect() };
            if !b.is_empty() {
                let i = rng.gen_range(0..b.len());
                b[i] ^= rng.gen::<u8>() | 1;
            }
            let _ = decode_request(&b);
            let _ = decode_response(&b);
        }
    }
}
