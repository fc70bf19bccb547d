//! The request mix: what a person browsing the web app and a client of the catalog API do,
//! in fixed proportions, each request named by its endpoint for the report.

use hyper::{Method, Uri};

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// web `GET /`: the page (catalog list, activity feed, hello chain, echo, visit counter).
    WebHome,
    /// web `GET /entries/{name}/edit`: one entry through catalog.
    WebEdit,
    /// catalog `GET /info/{name}`: one entry, from the Redis cache after the first read.
    CatalogGet,
    /// catalog `GET /info?limit=20`: a page of entries.
    CatalogList,
    /// catalog `PUT /info/{name}`: a write (database, outbox, event).
    CatalogPut,
}

impl Endpoint {
    pub const ALL: [Endpoint; 5] = [
        Self::WebHome,
        Self::WebEdit,
        Self::CatalogGet,
        Self::CatalogList,
        Self::CatalogPut,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::WebHome => "web GET /",
            Self::WebEdit => "web GET /entries/{name}/edit",
            Self::CatalogGet => "catalog GET /info/{name}",
            Self::CatalogList => "catalog GET /info?limit=20",
            Self::CatalogPut => "catalog PUT /info/{name}",
        }
    }

    /// Share of the requests, in percent: mostly page views, a tenth writes.
    fn weight(self) -> u64 {
        match self {
            Self::WebHome => 40,
            Self::WebEdit => 10,
            Self::CatalogGet => 30,
            Self::CatalogList => 10,
            Self::CatalogPut => 10,
        }
    }

    /// The endpoint of the `i`-th request: a fixed interleaving, so every run sends the same
    /// mix in the same order.
    pub fn nth(i: u64) -> Self {
        let mut slot = (i * 37) % 100;
        for endpoint in Self::ALL {
            if slot < endpoint.weight() {
                return endpoint;
            }
            slot -= endpoint.weight();
        }
        Self::WebHome
    }
}

/// Where the two services answer.
#[derive(Debug, Clone)]
pub struct Targets {
    pub web: String,
    pub catalog: String,
}

/// How many entries the load reads and writes (created before measuring).
pub const ENTRIES: u64 = 50;

/// The name of entry `n`.
pub fn entry_name(n: u64) -> String {
    format!("load-{n:03}")
}

/// Method, URI and body of the `i`-th request.
pub fn request(targets: &Targets, i: u64) -> anyhow::Result<(Endpoint, Method, Uri, Vec<u8>)> {
    let endpoint = Endpoint::nth(i);
    let name = entry_name(i % ENTRIES);
    let (method, url, body) = match endpoint {
        Endpoint::WebHome => (Method::GET, format!("{}/", targets.web), Vec::new()),
        Endpoint::WebEdit => (
            Method::GET,
            format!("{}/entries/{name}/edit", targets.web),
            Vec::new(),
        ),
        Endpoint::CatalogGet => (
            Method::GET,
            format!("{}/info/{name}", targets.catalog),
            Vec::new(),
        ),
        Endpoint::CatalogList => (
            Method::GET,
            format!("{}/info?limit=20", targets.catalog),
            Vec::new(),
        ),
        Endpoint::CatalogPut => (
            Method::PUT,
            format!("{}/info/{name}", targets.catalog),
            format!(r#"{{"description":"written by request {i}"}}"#).into_bytes(),
        ),
    };
    Ok((endpoint, method, url.parse()?, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_follows_the_weights_over_every_hundred_requests() {
        for endpoint in Endpoint::ALL {
            let count = (0..100).filter(|i| Endpoint::nth(*i) == endpoint).count() as u64;
            assert_eq!(count, endpoint.weight(), "case {endpoint:?}");
        }
    }
}
