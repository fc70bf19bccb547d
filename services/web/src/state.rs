//! What every handler shares: the backend clients, the visit counter, web's own readiness
//! and the cluster page's memory.

use service_common::Readiness;

use crate::backends::activity::Activity;
use crate::backends::catalog::Catalog;
use crate::backends::Backend;
use crate::cluster::ClusterMemory;
use crate::visits::Visits;

#[derive(Debug, Clone)]
pub struct AppState {
    pub catalog: Catalog,
    pub activity: Activity,
    pub hello: Backend,
    pub echo: Backend,
    pub visits: Visits,
    pub readiness: Readiness,
    pub cluster: ClusterMemory,
}
