//! Reading a service's `/metrics` the way Prometheus does: over HTTP, as text.

/// The text of `url` (a service's `http://127.0.0.1:METRICS_PORT/metrics`); panics unless it
/// answers 200.
pub async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("metrics answered");
    assert_eq!(response.status(), 200, "{url}");
    response.text().await.expect("metrics text")
}

/// The value of the series `series` (its name and labels, as written) in `text`.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_found_by_its_whole_name_and_labels() {
        let text = "# TYPE a gauge\na 1\nab 2\nc{x=\"1\"} 3.5\n";
        assert_eq!(metric_value(text, "a"), Some(1.0));
        assert_eq!(metric_value(text, "ab"), Some(2.0));
        assert_eq!(metric_value(text, "c{x=\"1\"}"), Some(3.5));
        assert_eq!(metric_value(text, "c"), None);
    }
}
