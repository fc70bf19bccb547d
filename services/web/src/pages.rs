//! The pages, as askama templates (in `templates/`, HTML-escaped by default), and how one is
//! turned into a response.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use service_common::status::{
    ConsumerFigures, DataStatus, MigrationSummary, OutboxFigures, Reading,
};

use crate::backends::activity::{Count, Event};
use crate::backends::catalog::Page;
use crate::backends::health::CheckView;
use crate::cluster::Replica;

/// A part of a page: its data, or why it is unavailable.
pub type Part<T> = Result<T, String>;

/// The main page: entries, the add form, the activity feed, the cluster panel, the counter.
#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub visits: Part<i64>,
    pub entries: Part<Page>,
    /// The `after` of the page shown, `None` on the first page.
    pub after: Option<String>,
    /// What the add form shows: empty, or what was sent when it was refused.
    pub form_name: String,
    pub form_description: String,
    pub feed: Part<Vec<Event>>,
    pub stats: Part<Vec<Count>>,
    pub hello: Part<String>,
    pub echo: Part<String>,
}

/// `/cluster`: the panel, refreshed by the page's script or, without one, by reloading.
#[derive(Template)]
#[template(path = "cluster.html")]
pub struct ClusterPage {
    pub panel: ClusterPanel,
    pub refresh_ms: u32,
    pub reload_secs: u32,
}

/// The cluster's figures: the whole of `/cluster/panel`, and the middle of `/cluster`.
#[derive(Debug, Template)]
#[template(path = "cluster_panel.html")]
pub struct ClusterPanel {
    pub services: Vec<ServiceRow>,
    pub databases: Vec<DatabaseRow>,
    pub outbox: Part<OutboxFigures>,
    pub consumer: Part<ConsumerFigures>,
    /// Calls made to echo for this view, and how many were answered.
    pub echo_calls: usize,
    pub echo_answered: usize,
    /// The replicas that answered the remembered calls, most answers first.
    pub replicas: Vec<Replica>,
    /// When the figures were read, `HH:MM:SS UTC`.
    pub updated: String,
}

/// One service: `ready`, `not ready` or `unreachable`, what it depends on, its traffic.
#[derive(Debug)]
pub struct ServiceRow {
    pub name: &'static str,
    pub role: &'static str,
    pub state: &'static str,
    pub checks: Vec<CheckView>,
    /// Requests per second between this view and the previous one.
    pub rate: Option<f64>,
    /// Why it gave no report.
    pub error: Option<String>,
}

impl ServiceRow {
    /// The rate as shown: one decimal, or a dash until there are two counts.
    pub fn rate_text(&self) -> String {
        match self.rate {
            Some(rate) => format!("{rate:.1}"),
            None => "\u{2013}".into(),
        }
    }
}

/// One database, as the service that owns it reports it.
#[derive(Debug)]
pub struct DatabaseRow {
    pub name: &'static str,
    pub migrations: Part<MigrationSummary>,
}

impl DatabaseRow {
    pub fn from_status(name: &'static str, status: &Part<DataStatus>) -> Self {
        let migrations = match status {
            Ok(status) => match &status.migrations {
                Reading::Ok(summary) => Ok(summary.clone()),
                Reading::Unavailable(reason) => Err(reason.clone()),
            },
            Err(reason) => Err(reason.clone()),
        };
        Self { name, migrations }
    }
}

/// The edit form of one entry.
#[derive(Template)]
#[template(path = "edit.html")]
pub struct EditPage {
    pub csrf: String,
    pub name: String,
    pub description: String,
    pub error: Option<String>,
}

/// A page that only says what went wrong.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: String,
}

/// `page` as an HTML response with `status`, setting the CSRF cookie when given.
pub fn render(status: StatusCode, page: &impl Template, cookie: Option<HeaderValue>) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            if let Some(cookie) = cookie {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// An error page.
pub fn error(status: StatusCode, title: &'static str, message: impl Into<String>) -> Response {
    Failure::new(status, title, message).into_response()
}

/// A request that ends on an error page: the `Err` of handlers' steps.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    page: ErrorPage,
}

impl Failure {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            page: ErrorPage {
                title,
                message: message.into(),
            },
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        render(self.status, &self.page, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::catalog::Entry;

    const HOSTILE: &str = r#"<script>alert("x")</script><img src=x onerror='alert(1)'> & "quoted""#;

    fn page_with(description: &str) -> IndexPage {
        IndexPage {
            csrf: "0123456789abcdef0123456789abcdef".into(),
            notice: Some(format!("Added {HOSTILE}.")),
            error: Some(HOSTILE.into()),
            visits: Ok(7),
            entries: Ok(Page {
                items: vec![Entry {
                    name: "x".into(),
                    description: description.into(),
                    updated_at: String::new(),
                }],
                next: Some(HOSTILE.into()),
            }),
            after: None,
            form_name: HOSTILE.into(),
            form_description: format!("</textarea>{HOSTILE}"),
            feed: Ok(vec![Event {
                kind: HOSTILE.into(),
                name: HOSTILE.into(),
                occurred_at: String::new(),
            }]),
            stats: Ok(vec![Count {
                kind: HOSTILE.into(),
                count: 1,
            }]),
            hello: Ok(HOSTILE.into()),
            echo: Err(HOSTILE.into()),
        }
    }

    #[test]
    fn every_value_on_the_page_is_escaped() {
        let html = page_with(HOSTILE).render().unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("</textarea><"), "{html}");
        assert!(
            html.contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;"),
            "{html}"
        );
        // The only script-free page: no attribute value can be broken out of either.
        assert!(!html.contains("onerror='"), "{html}");
    }

    #[test]
    fn unavailable_parts_say_why() {
        let mut page = page_with("plain");
        page.entries = Err("catalog is unavailable: cannot connect".into());
        page.visits = Err("Redis is unavailable".into());
        let html = page.render().unwrap();
        assert!(html.contains("Entries unavailable: catalog is unavailable: cannot connect"));
        assert!(html.contains("Visit counter unavailable: Redis is unavailable"));
        // The add form is still there, so nothing typed is lost while catalog is down.
        assert!(html.contains(r#"<form method="post" action="/entries" id="add-entry">"#));
    }

    #[test]
    fn the_cluster_panel_escapes_what_services_report() {
        let summary = MigrationSummary {
            version: Some(1),
            latest: Some(2),
            applied: 1,
            pending: vec![HOSTILE.into()],
            drift: vec![HOSTILE.into()],
            ahead: vec![HOSTILE.into()],
        };
        let panel = ClusterPanel {
            services: vec![ServiceRow {
                name: "catalog",
                role: "entries API",
                state: "ready",
                checks: vec![CheckView {
                    name: HOSTILE.into(),
                    status: HOSTILE.into(),
                    detail: Some(HOSTILE.into()),
                }],
                rate: Some(1.25),
                error: None,
            }],
            databases: vec![
                DatabaseRow {
                    name: "catalog",
                    migrations: Ok(summary),
                },
                DatabaseRow {
                    name: "activity",
                    migrations: Err(HOSTILE.into()),
                },
            ],
            outbox: Err(HOSTILE.into()),
            consumer: Ok(ConsumerFigures {
                lag: None,
                pending: 3,
            }),
            echo_calls: 6,
            echo_answered: 1,
            replicas: vec![Replica {
                name: HOSTILE.into(),
                answers: 1,
            }],
            updated: HOSTILE.into(),
        };
        let html = panel.render().unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains(r#"data-database="catalog" data-current="false""#),
            "{html}"
        );
        assert!(html.contains("unknown lag, 3 pending"), "{html}");
        assert!(html.contains(">1.2<") || html.contains(">1.3<"), "{html}");
        // Inside the whole page, the panel is not escaped a second time.
        let page = ClusterPage {
            panel,
            refresh_ms: 2000,
            reload_secs: 5,
        }
        .render()
        .unwrap();
        assert!(
            page.contains(r#"<tr data-service="catalog" data-state="ready">"#),
            "{page}"
        );
        assert!(!page.contains("<script>alert"), "{page}");
    }

    #[test]
    fn the_edit_page_escapes_name_and_description() {
        let html = EditPage {
            csrf: "t".into(),
            name: HOSTILE.into(),
            description: format!("</textarea>{HOSTILE}"),
            error: None,
        }
        .render()
        .unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("</textarea><"),
            "{html}"
        );
    }
}
