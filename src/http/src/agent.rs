//! `/v1/agent/self` and `/v1/agent/members` (agent/agent_endpoint.go).
//! Agent-local: no consistency, no index headers.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::backend::{AgentInfo, Backend};
use crate::router::Call;
use crate::server::Response;

/// Consul's `Self` struct, fields in its order, `xDS` omitted when absent.
struct SelfJson<'a>(&'a AgentInfo);

impl Serialize for SelfJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let info = self.0;
        let mut st = s.serialize_struct("Self", 7)?;
        st.serialize_field("Config", &info.config)?;
        st.serialize_field("DebugConfig", &info.debug_config)?;
        st.serialize_field("Coord", &info.coord)?;
        st.serialize_field("Member", &info.member)?;
        st.serialize_field("Stats", &info.stats)?;
        st.serialize_field("Meta", &info.meta)?;
        if let Some(xds) = &info.xds {
            st.serialize_field("xDS", xds)?;
        }
        st.end()
    }
}

pub(crate) fn self_info<B: Backend>(call: Call<'_, B>) -> Response {
    let info = call.ctx.backend.agent_info();
    call.json(200, &SelfJson(&info))
}

pub(crate) fn members<B: Backend>(call: Call<'_, B>) -> Response {
    let wan = !call.query.get("wan").is_empty();
    let segment = call.query.get("segment");
    if wan && !segment.is_empty() && segment != "_all" {
        return Response::text(400, "Cannot provide a segment with wan=true");
    }
    if !call.query.get("filter").is_empty() {
        // No bexpr evaluator yet: refuse rather than return unfiltered data.
        return Response::text(500, "Failed to create evaluator for filter: filter expressions are not supported by this agent");
    }
    let members = call.ctx.backend.members(wan);
    call.json(200, &members)
}
