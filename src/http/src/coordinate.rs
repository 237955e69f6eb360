//! `/v1/coordinate/datacenters`, `/v1/coordinate/nodes`, `/v1/coordinate/node/<node>`,
//! `PUT /v1/coordinate/update`
//! (agent/coordinate_endpoint.go). The coordinates are those this server's gossip pools
//! measured (its own and each member's last ack), not a Raft-replicated table: every
//! server answers from what it saw. Reads carry Consul's query meta headers; they do not
//! block (a coordinate moves with every probe).

use serde::Serialize;

use crate::backend::{Backend, Coord};
use crate::blocking::ReadMeta;
use crate::params::QueryOptions;
use crate::router::Call;
use crate::server::Response;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CoordinateEntry<'a> {
    node: &'a str,
    segment: &'a str,
    coord: &'a Coord,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DatacenterMap<'a> {
    datacenter: &'a str,
    #[serde(rename = "AreaID")]
    area_id: &'a str,
    coordinates: Vec<CoordinateEntry<'a>>,
}

fn options<B>(call: &Call<'_, B>) -> Result<QueryOptions, Response> {
    let opts = QueryOptions::parse(&call.query, call.req.cache_control.as_deref()).map_err(|bad| Response::text(400, bad.0))?;
    call.check_datacenter(&opts.datacenter)?;
    Ok(opts)
}

fn with_meta<B: Backend>(call: &Call<'_, B>, opts: &QueryOptions, mut resp: Response) -> Response {
    let meta = ReadMeta { index: call.ctx.backend.state().applied_index(), leader: call.ctx.backend.leader_status(), consistency: opts.consistency };
    meta.apply(&mut resp);
    resp
}

/// WAN coordinates of the servers, grouped by datacenter (WAN member names are
/// `<node>.<dc>`).
pub(crate) fn datacenters<B: Backend>(call: Call<'_, B>) -> Response {
    if let Err(r) = options(&call) {
        return r;
    }
    let coords = call.ctx.backend.coordinates(true);
    let mut maps: Vec<DatacenterMap<'_>> = Vec::new();
    for (name, coord) in coords.iter() {
        let (node, dc) = name.rsplit_once('.').unwrap_or((name.as_str(), ""));
        let _ = node;
        match maps.iter_mut().find(|m| m.datacenter == dc) {
            Some(m) => m.coordinates.push(CoordinateEntry { node: name, segment: "", coord }),
            None => maps.push(DatacenterMap { datacenter: dc, area_id: "wan", coordinates: vec![CoordinateEntry { node: name, segment: "", coord }] }),
        }
    }
    maps.sort_by(|a, b| a.datacenter.cmp(b.datacenter));
    call.json(200, &maps)
}

/// LAN coordinates of every node this server has measured.
pub(crate) fn nodes<B: Backend>(call: Call<'_, B>) -> Response {
    let opts = match options(&call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let coords = call.ctx.backend.coordinates(false);
    let entries: Vec<CoordinateEntry<'_>> = coords.iter().map(|(n, c)| CoordinateEntry { node: n, segment: "", coord: c }).collect();
    let resp = call.json(200, &entries);
    with_meta(&call, &opts, resp)
}

/// One node's coordinates (a list, one per segment); 404 when unknown.
pub(crate) fn node<B: Backend>(call: Call<'_, B>) -> Response {
    let opts = match options(&call) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let name = call.req.path.strip_prefix("/v1/coordinate/node/").unwrap_or_default().to_string();
    let coords = call.ctx.backend.coordinates(false);
    let entries: Vec<CoordinateEntry<'_>> =
        coords.iter().filter(|(n, _)| *n == name).map(|(n, c)| CoordinateEntry { node: n, segment: "", coord: c }).collect();
    let resp = if entries.is_empty() { Response::empty(404) } else { call.json(200, &entries) };
    with_meta(&call, &opts, resp)
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CoordinateUpdate {
    node: String,
    #[allow(dead_code)] // accepted as Consul does; ballast has no network segments
    segment: String,
    coord: Option<Coord>,
}

/// `PUT /v1/coordinate/update` with `{"Node", "Segment", "Coord"}`: 200 with an empty body.
pub(crate) async fn update<B: Backend>(call: Call<'_, B>) -> Response {
    let body = match &call.req.body {
        crate::server::Body::Complete(b) => b.as_slice(),
        crate::server::Body::TooLarge { .. } => return Response::text(413, "Request body too large"),
    };
    let args: CoordinateUpdate = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => return Response::text(400, format!("Request decode failed: {e}")),
    };
    let Some(coord) = args.coord else {
        return Response::text(500, "rejected bad coordinate");
    };
    match call.ctx.backend.update_coordinate(args.node, coord).await {
        Ok(()) => Response::empty(200),
        Err(e) => crate::write::backend_error(&e),
    }
}
