//! What every request handler shares.

use deadpool_postgres::Pool;

use crate::cache::Cache;
use crate::outbox::Outbox;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub cache: Cache,
    pub outbox: Outbox,
}
