//! dbtool: versioned PostgreSQL migrations with rollback, locking, waiting and drift checks.
