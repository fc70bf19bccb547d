//! Latency samples and the figures printed from them; cluster-load prints the same.

use std::time::Duration;

/// Every latency measured, in microseconds, and the failures.
#[derive(Debug, Default)]
pub struct Samples {
    micros: Vec<u64>,
    failed: u64,
    /// Wall time of the measurement.
    pub elapsed: Duration,
}

impl Samples {
    pub fn record(&mut self, latency: Duration, ok: bool) {
        self.micros
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        if !ok {
            self.failed += 1;
        }
    }

    pub fn merge(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.failed += other.failed;
    }

    /// The `p`-th percentile (nearest rank), in milliseconds.
    fn percentile(sorted: &[u64], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
    }

    /// One line of figures.
    pub fn report(mut self, mode: &str) -> String {
        self.micros.sort_unstable();
        let count = self.micros.len();
        let per_second = count as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON);
        format!(
            "{mode}: {count} requests in {:.1} s, {} failed, {per_second:.0} requests/s, \
             latency ms p50 {:.3} p90 {:.3} p99 {:.3} p99.9 {:.3} max {:.3}",
            self.elapsed.as_secs_f64(),
            self.failed,
            Self::percentile(&self.micros, 50.0),
            Self::percentile(&self.micros, 90.0),
            Self::percentile(&self.micros, 99.0),
            Self::percentile(&self.micros, 99.9),
            Self::percentile(&self.micros, 100.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        let cases = [
            (50.0, 50.0),
            (99.0, 99.0),
            (100.0, 100.0),
            (0.0, 1.0),
            (99.9, 100.0),
        ];
        for (p, want) in cases {
            assert!(
                (Samples::percentile(&sorted, p) - want).abs() < 1e-9,
                "case p{p}"
            );
        }
        assert_eq!(Samples::percentile(&[], 99.0), 0.0);
    }
}
