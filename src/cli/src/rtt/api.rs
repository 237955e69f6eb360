//! The part of Consul's Go API client (api/coordinate.go) the rtt command uses.
use ballast_coordinate::Coordinate as Coord;
use serde::Deserialize;

use crate::api::{unexpected, ApiClient};

/// api.CoordinateEntry; `Coord` may be null.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CoordinateEntry {
    pub node: String,
    pub segment: String,
    pub coord: Option<Coord>,
}

/// api.CoordinateDatacenterMap: the WAN coordinates of one datacenter's servers in one area.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct CoordinateDatacenterMap {
    pub datacenter: String,
    #[serde(rename = "AreaID")]
    pub area_id: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub coordinates: Vec<CoordinateEntry>,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl ApiClient {
    fn get_json<T: for<'de> Deserialize<'de> + Default>(&self, path: &str) -> Result<T, String> {
        let resp = self.send("GET", path, Vec::new(), None, None)?;
        if resp.status != 200 {
            return Err(unexpected(resp.status, &resp.body));
        }
        let out: Option<T> = serde_json::from_slice(&resp.body).map_err(|e| e.to_string())?;
        Ok(out.unwrap_or_default())
    }

    /// Coordinate.Datacenters: GET /v1/coordinate/datacenters.
    pub fn coordinate_datacenters(&self) -> Result<Vec<CoordinateDatacenterMap>, String> {
        self.get_json("/v1/coordinate/datacenters")
    }

    /// Coordinate.Nodes(nil): GET /v1/coordinate/nodes.
    pub fn coordinate_nodes(&self) -> Result<Vec<CoordinateEntry>, String> {
        self.get_json("/v1/coordinate/nodes")
    }
}
