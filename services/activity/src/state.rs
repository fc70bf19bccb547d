//! What every request handler shares.

use deadpool_postgres::Pool;

use crate::group::ConsumerGroup;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub group: ConsumerGroup,
}
