//! What every handler shares: the backend clients and the visit counter.

use crate::backends::activity::Activity;
use crate::backends::catalog::Catalog;
use crate::backends::Backend;
use crate::visits::Visits;

#[derive(Debug, Clone)]
pub struct AppState {
    pub catalog: Catalog,
    pub activity: Activity,
    pub hello: Backend,
    pub echo: Backend,
    pub visits: Visits,
}
