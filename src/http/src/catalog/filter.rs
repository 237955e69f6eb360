//! `?filter=`: one parsed expression applied to each record's Go-struct view
//! (see [`super::json::Mode::Filter`]). Errors carry Consul's text and code.

use ballast_filter::Filter;

use crate::server::Response;

pub(crate) struct ElementFilter(Option<Filter>);

impl ElementFilter {
    /// An empty expression filters nothing, as Consul's `bexpr.CreateFilter("")`.
    pub fn parse(expr: &str) -> Result<ElementFilter, Response> {
        if expr.is_empty() {
            return Ok(ElementFilter(None));
        }
        Filter::parse(expr)
            .map(|f| ElementFilter(Some(f)))
            .map_err(|e| Response::text(e.status(), e.to_string()))
    }

    pub fn is_active(&self) -> bool {
        self.0.is_some()
    }

    /// Keep `items` whose view matches; the view is built only when needed.
    pub fn retain<T>(&self, items: &mut Vec<T>, view: impl Fn(&T) -> serde_json::Value) -> Result<(), Response> {
        let Some(f) = &self.0 else { return Ok(()) };
        let mut err = None;
        items.retain(|item| {
            if err.is_some() {
                return false;
            }
            match f.matches(&view(item)) {
                Ok(keep) => keep,
                Err(e) => {
                    err = Some(Response::text(e.status(), e.to_string()));
                    false
                }
            }
        });
        err.map_or(Ok(()), Err)
    }
}
