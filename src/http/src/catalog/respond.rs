//! Finishing a catalog/health read: backend failures, filter errors and the
//! JSON body, each with the query meta headers Consul's deferred `setMeta`
//! adds.

use crate::backend::BackendError;
use crate::blocking::ReadMeta;
use crate::server::Response;
use crate::write::backend_error;

pub(crate) type Outcome<T> = Result<(Result<T, Response>, ReadMeta), BackendError>;

pub(crate) fn finish<T>(outcome: Outcome<T>, render: impl FnOnce(T) -> Response) -> Response {
    match outcome {
        Err(e) => backend_error(&e),
        Ok((value, meta)) => {
            let mut resp = match value {
                Ok(v) => render(v),
                Err(r) => r,
            };
            meta.apply(&mut resp);
            resp
        }
    }
}
