//! The one rule for "the database is unavailable", against the harness's real PostgreSQL
//! (`TEST_DATABASE_URL`): what the server does when it goes away, not a mock of it.

use std::time::Duration;

use service_common::postgres::{self, PoolSettings};

fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests through scripts/test.sh, or \
         `. scripts/local-servers.sh; start_local_servers` first",
    )
}

#[tokio::test]
async fn a_session_the_server_ends_is_an_outage_and_a_bad_query_is_not() {
    let settings = PoolSettings {
        max_size: 1,
        timeout: Duration::from_secs(5),
    };
    let pool = postgres::pool(&database_url(), settings).expect("pool");
    let client = pool.get().await.expect("connection");

    let bad = client.simple_query("SELEC 1").await.unwrap_err();
    assert!(!postgres::is_unavailable(&bad), "{bad:?}");

    // What a database restart does to every open session: SQLSTATE 57P01 on a connection
    // that is then closed.
    let ended = client
        .simple_query("SELECT pg_terminate_backend(pg_backend_pid())")
        .await
        .unwrap_err();
    assert!(postgres::is_unavailable(&ended), "{ended:?}");
    let after = client.simple_query("SELECT 1").await.unwrap_err();
    assert!(postgres::is_unavailable(&after), "{after:?}");
}
