//! The few etcd v3 messages the load generator sends and reads, written by
//! hand so no protoc is needed. Field numbers follow etcd's
//! `etcdserver/etcdserverpb/rpc.proto` and `mvcc/mvccpb/kv.proto` (3.4);
//! fields the benchmark never sets are left out (protobuf skips unknown
//! fields when decoding, and absent fields are their defaults when encoding).

/// gRPC method paths (`/package.Service/Method`).
pub const PUT_PATH: &str = "/etcdserverpb.KV/Put";
pub const RANGE_PATH: &str = "/etcdserverpb.KV/Range";
pub const STATUS_PATH: &str = "/etcdserverpb.Maintenance/Status";

/// Maintenance/Status takes no arguments.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusRequest {}

/// The member's own id is `header.member_id`; it leads when that equals `leader`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusResponse {
    #[prost(message, optional, tag = "1")]
    pub header: Option<ResponseHeader>,
    #[prost(string, tag = "2")]
    pub version: String,
    #[prost(uint64, tag = "4")]
    pub leader: u64,
    #[prost(uint64, tag = "6")]
    pub raft_term: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseHeader {
    #[prost(uint64, tag = "1")]
    pub cluster_id: u64,
    #[prost(uint64, tag = "2")]
    pub member_id: u64,
    #[prost(int64, tag = "3")]
    pub revision: i64,
    #[prost(uint64, tag = "4")]
    pub raft_term: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(int64, tag = "2")]
    pub create_revision: i64,
    #[prost(int64, tag = "3")]
    pub mod_revision: i64,
    #[prost(int64, tag = "4")]
    pub version: i64,
    #[prost(bytes = "vec", tag = "5")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "6")]
    pub lease: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PutRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub lease: i64,
    #[prost(bool, tag = "4")]
    pub prev_kv: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PutResponse {
    #[prost(message, optional, tag = "1")]
    pub header: Option<ResponseHeader>,
    #[prost(message, optional, tag = "2")]
    pub prev_kv: Option<KeyValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RangeRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub range_end: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub limit: i64,
    #[prost(int64, tag = "4")]
    pub revision: i64,
    /// false: linearizable (a ReadIndex round through the leader);
    /// true: served from the member's local state.
    #[prost(bool, tag = "7")]
    pub serializable: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct RangeResponse {
    #[prost(message, optional, tag = "1")]
    pub header: Option<ResponseHeader>,
    #[prost(message, repeated, tag = "2")]
    pub kvs: Vec<KeyValue>,
    #[prost(bool, tag = "3")]
    pub more: bool,
    #[prost(int64, tag = "4")]
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn serializable_is_field_7_varint() {
        let req = RangeRequest { key: b"k".to_vec(), serializable: true, ..Default::default() };
        // field 1 (len-delimited) "k", then field 7 varint 1 = tag byte (7<<3)|0 = 0x38.
        assert_eq!(req.encode_to_vec(), vec![0x0a, 0x01, b'k', 0x38, 0x01]);
        let linear = RangeRequest { key: b"k".to_vec(), ..Default::default() };
        assert_eq!(linear.encode_to_vec(), vec![0x0a, 0x01, b'k']);
    }

    #[test]
    fn put_request_encodes_key_and_value() {
        let req = PutRequest { key: b"a".to_vec(), value: b"xy".to_vec(), ..Default::default() };
        assert_eq!(req.encode_to_vec(), vec![0x0a, 0x01, b'a', 0x12, 0x02, b'x', b'y']);
    }

    #[test]
    fn status_response_decodes_leader_and_member_id() {
        // header{member_id(2)=5}, version(2)="3.4.23", dbSize(3)=4096, leader(4)=5, raftTerm(6)=2
        let mut bytes = vec![0x0a, 0x02, 0x10, 0x05, 0x12, 0x06];
        bytes.extend_from_slice(b"3.4.23");
        bytes.extend_from_slice(&[0x18, 0x80, 0x20, 0x20, 0x05, 0x30, 0x02]);
        let status = StatusResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(status.header.unwrap().member_id, 5);
        assert_eq!(status.leader, 5);
        assert_eq!(status.raft_term, 2);
        assert_eq!(status.version, "3.4.23");
        assert!(StatusRequest {}.encode_to_vec().is_empty());
    }

    #[test]
    fn range_response_decodes_and_skips_unknown_fields() {
        let resp = RangeResponse {
            header: Some(ResponseHeader { revision: 9, ..Default::default() }),
            kvs: vec![KeyValue { key: b"k".to_vec(), value: b"v".to_vec(), mod_revision: 9, ..Default::default() }],
            more: false,
            count: 1,
        };
        let mut bytes = resp.encode_to_vec();
        // An unknown field 15 (varint) a newer server might add.
        bytes.extend_from_slice(&[0x78, 0x05]);
        let back = RangeResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, resp);
        assert!(RangeResponse::decode(&[0x0a, 0xff][..]).is_err());
    }
}
